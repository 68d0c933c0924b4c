"""Turn per-window style scores into one score per text."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

SCORE_FLOOR = 1e-6


def weighted_geometric_mean(scores: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """Token-weighted geometric mean of window scores: every part of a text must be in style.

    A window score is the calibrated probability that the window is by the author, so the
    geometric mean is the per-window likelihood of the whole text normalised by its length. Unlike
    the arithmetic mean, one off-style stretch pulls it down hard (7 windows at 0.9 and one at 0.1
    give 0.68, not 0.80), so a story cannot buy its score with a few strong paragraphs; unlike
    the minimum, it stays smooth and length-independent, which GRPO's group advantages need.

    >>> round(weighted_geometric_mean(np.array([0.9] * 7 + [0.1]), np.ones(8)), 2)
    0.68
    """
    if len(scores) == 0:
        return 0.0
    logs = np.log(np.clip(scores, SCORE_FLOOR, 1.0))
    return float(np.exp(np.average(logs, weights=weights)))


def tempered(scores: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    """Probabilities with their log-odds divided by `temperature`: ranks unchanged, extremes
    pulled toward 0.5 (temperature > 1), so a reward that is nearly 0 or 1 for a whole group of
    completions still tells them apart.

    >>> [round(float(p), 3) for p in tempered(np.array([0.001, 0.5, 0.999]), 3.0)]
    [0.091, 0.5, 0.909]
    """
    if temperature == 1.0:
        return scores
    p = np.clip(scores, SCORE_FLOOR, 1.0 - SCORE_FLOOR)
    logits = np.log(p) - np.log1p(-p)
    softened: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-logits / temperature))
    return softened


def evidence_weight(words: int, min_words: int, full_words: int) -> float:
    """How much of a text's own evidence its score keeps: 0 up to `min_words` words, 1 from
    `full_words`, linear between.

    >>> [evidence_weight(w, 30, 150) for w in (3, 30, 90, 150, 900)]
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    if words >= full_words:
        return 1.0
    return max(0.0, (words - min_words) / (full_words - min_words))


def with_evidence(score: float, weight: float, prior: float) -> float:
    """The score's log-odds mixed with the prior's by the evidence weight: a text too short to
    tell scores the prior; a long one keeps its score.

    >>> [round(with_evidence(0.99, w, 0.05), 3) for w in (0.0, 0.5, 1.0)]
    [0.05, 0.695, 0.99]
    """
    if weight >= 1.0:
        return score
    p = min(max(score, SCORE_FLOOR), 1.0 - SCORE_FLOOR)
    logit = weight * (math.log(p) - math.log1p(-p)) + (1.0 - weight) * (
        math.log(prior) - math.log1p(-prior)
    )
    return 1.0 / (1.0 + math.exp(-logit))
