"""Map a raw measure (similarity, log-likelihood) to 0..1 by a logistic fit of two classes."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """A logistic map `score = sigmoid(slope * (similarity - centre))` and the data it came from.

    Fitted as a class-balanced logistic regression of "same author" on the raw similarity, so a
    score is the probability that a window is by the author; `auc` says how well raw similarity
    separates the two classes on the fitting data.
    """

    slope: float
    centre: float
    same_mean: float
    other_mean: float
    auc: float
    n_same: int
    n_other: int

    def apply(self, similarity: FloatArray) -> FloatArray:
        """Calibrated scores in (0, 1) for an array of raw similarities."""
        z = np.clip(self.slope * (np.asarray(similarity, dtype=np.float64) - self.centre), -50, 50)
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for `/info` and the profile cache."""
        return asdict(self)


def fit_calibration(same: FloatArray, other: FloatArray) -> Calibration:
    """Fit the logistic map from similarities of same-author and other-author windows."""
    same = np.asarray(same, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if len(same) < 2 or len(other) < 2:
        raise ValueError("calibration needs at least 2 same-author and 2 other-author windows")
    x = np.concatenate([same, other])
    y = np.concatenate([np.ones_like(same), np.zeros_like(other)])
    weights = np.where(y == 1, 0.5 / len(same), 0.5 / len(other))
    a, b = _weighted_logistic_regression(x, y, weights)
    return Calibration(
        slope=a,
        centre=-b / a if a != 0 else float(np.mean(x)),
        same_mean=float(same.mean()),
        other_mean=float(other.mean()),
        auc=roc_auc(same, other),
        n_same=len(same),
        n_other=len(other),
    )


def roc_auc(positive: FloatArray, negative: FloatArray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    values = np.concatenate([positive, negative])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _weighted_logistic_regression(
    x: FloatArray, y: FloatArray, weights: FloatArray, l2: float = 1e-4
) -> tuple[float, float]:
    """Newton's method for `P(y=1|x) = sigmoid(a*x + b)`; a small ridge keeps it finite."""
    scale = float(x.std()) or 1.0
    xs = (x - x.mean()) / scale
    theta = np.zeros(2)
    design = np.stack([xs, np.ones_like(xs)], axis=1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -50, 50)))
        gradient = design.T @ (weights * (p - y)) + l2 * theta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + l2 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    slope = float(theta[0] / scale)
    intercept = float(theta[1] - theta[0] * x.mean() / scale)
    if not math.isfinite(slope) or not math.isfinite(intercept):
        raise ValueError("calibration did not converge")
    return slope, intercept
