"""What multiplies a style score after the encoder and classifier: copying, non-prose text and
repetition."""
