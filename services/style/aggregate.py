"""Turn per-window style scores into one score per text."""

from __future__ import annotations

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
