"""Stage 1: fine-tuning the style encoder, and the authorship evaluator of the style score."""
