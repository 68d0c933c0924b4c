"""The data pipeline: books in, cleaned text, chunks and datasets out."""
