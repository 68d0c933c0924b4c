"""The HTTP layer every reward service shares, written once."""
