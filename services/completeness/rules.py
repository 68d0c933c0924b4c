"""The rules against what GRPO learns to exploit: each gives a value and a penalty in [0, 1].

- `truncation`: 1.0 when the last sentence before the end marker lacks terminal
  punctuation (a story cut off mid-sentence, the marker pasted after it), else 0.0; the
  penalty is the value.
- `repetition`: the fraction of word n-grams that repeat an earlier n-gram of the text
  (padding by copying); the penalty ramps linearly from 0 at a threshold to 1 at `full`.
  1,500-word passages of the corpus's books score 0.005 (median) to 0.015 (max) for 4-grams.
- `trailing_junk`: the number of words after the end marker; any is a full penalty.

>>> round(repetition_penalty(0.2, threshold=0.05, full=0.30), 9)
0.6
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.text import ends_sentence


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What one rule measured, how much it weighs, and its penalty in [0, 1]."""

    value: float
    weight: float
    penalty: float


def truncation(body: str) -> float:
    """1.0 when the story's last sentence lacks terminal punctuation, else 0.0."""
    return 0.0 if ends_sentence(body) else 1.0


def repetition_penalty(ratio: float, *, threshold: float, full: float) -> float:
    """0 up to `threshold`, rising linearly to 1 at `full` and beyond."""
    return min(1.0, max(0.0, (ratio - threshold) / (full - threshold)))


def trailing_junk_penalty(junk_words: int) -> float:
    """1.0 when any word follows the end marker, else 0.0."""
    return 1.0 if junk_words else 0.0
