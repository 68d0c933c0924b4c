"""The reward-hacking monitor: measures no reward sees, taken every few steps of a GRPO run."""
