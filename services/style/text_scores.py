"""From window scores to a text's score and details, and where each text's windows are."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from services.style.aggregate import weighted_geometric_mean
from services.style.encoding.windows import WindowedText
from shared.schemas import WindowScore
from shared.typography import NormalisedText


def score_text(
    text: NormalisedText,
    split: WindowedText,
    similarity: NDArray[np.float64],
    window_scores: NDArray[np.float64],
    classifier: NDArray[np.float64] | None,
) -> tuple[float, list[WindowScore]]:
    """A text's score from its windows' scores, and each window's details with its span in
    the text as sent."""
    weights = np.array([w.tokens for w in split.windows], dtype=np.float64)
    spans = [text.original_span(w.start, w.end) for w in split.windows]
    windows = [
        WindowScore(
            start=start,
            end=end,
            tokens=w.tokens,
            similarity=float(similarity[i]),
            classifier=None if classifier is None else float(classifier[i]),
            score=float(window_scores[i]),
        )
        for i, (w, (start, end)) in enumerate(zip(split.windows, spans, strict=True))
    ]
    return weighted_geometric_mean(window_scores, weights), windows


def window_texts(texts: list[str], splits: list[WindowedText]) -> list[str]:
    """The text of every window of every text, in order."""
    return [text[w.start : w.end] for text, s in zip(texts, splits, strict=True) for w in s.windows]


def row_ranges(splits: list[WindowedText]) -> list[tuple[int, int]]:
    """Each text's [start, end) rows among the windows of all the texts."""
    ranges, start = [], 0
    for split in splits:
        ranges.append((start, start + len(split.windows)))
        start += len(split.windows)
    return ranges
