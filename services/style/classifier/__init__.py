"""The n-gram authorship classifier beside the encoder, and how the two are stacked."""
