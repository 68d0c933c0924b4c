"""Where the judge model runs: in-process (`transformers`) or behind an OpenAI-compatible API."""
