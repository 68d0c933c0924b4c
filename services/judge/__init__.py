"""The content-judge reward: an LLM judge's expected rubric score, plus fluency."""
