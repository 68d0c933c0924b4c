"""Supervised fine-tuning of the story writer (stage 2)."""
