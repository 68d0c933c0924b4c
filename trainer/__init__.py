"""GRPO training against the reward services over HTTP, and what it needs around it."""
