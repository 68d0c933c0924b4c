"""The sentence-transformer that embeds a text's windows: windows, batches, backends."""
