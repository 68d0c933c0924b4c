"""Combine the encoder's projection and the n-gram classifier's log-odds into one window score.

`score = sigmoid(a * similarity + b * classifier + c)`, a class-balanced logistic regression
fitted on held-out values of both (every window scored by models that never saw its book), so
the weights say how much each witness is worth on new books and the score stays a calibrated
probability that the window is by the author.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from services.common.calibration import roc_auc
from services.style.profiles.contrast_weights import contrast_weights

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StackedCalibration:
    """Weights of the two witnesses, and how well each (and both) separated held-out books."""

    similarity_weight: float
    classifier_weight: float
    bias: float
    auc: float
    similarity_auc: float
    classifier_auc: float
    n_same: int
    n_other: int
    # The author's windows against the policy's own stories alone (None without them).
    policy_auc: float | None = None
    n_policy: int = 0

    def apply(self, similarity: FloatArray, classifier: FloatArray) -> FloatArray:
        """Calibrated window scores in (0, 1)."""
        z = self.similarity_weight * np.asarray(similarity, dtype=np.float64)
        z = z + self.classifier_weight * np.asarray(classifier, dtype=np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for `/info`."""
        return asdict(self)


def fit_stacked_calibration(
    similarity: FloatArray,
    classifier: FloatArray,
    labels: NDArray[np.str_],
    author: str,
    *,
    policy_label: str | None = None,
    policy_share: float = 0.0,
) -> StackedCalibration:
    """Fit the combination on windows whose both values are held-out (NaN rows are skipped);
    windows labelled `policy_label` carry `policy_share` of the contrast weight."""
    usable = ~(np.isnan(similarity) | np.isnan(classifier))
    s, c, kinds = similarity[usable], classifier[usable], labels[usable]
    y = kinds == author
    if y.sum() < 2 or (~y).sum() < 2:
        raise ValueError("stacking needs at least 2 held-out windows of the author and 2 others")
    sample_weights = contrast_weights(
        kinds, author, weighted_label=policy_label, share=policy_share
    )
    features = np.stack([s, c], axis=1)
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=100.0).fit(
        (features - mean) / scale, y, sample_weight=sample_weights
    )
    weights = model.coef_[0] / scale
    bias = float(model.intercept_[0] - weights @ mean)
    combined = features @ weights + bias
    policy = kinds == policy_label
    return StackedCalibration(
        similarity_weight=float(weights[0]),
        classifier_weight=float(weights[1]),
        bias=bias,
        auc=roc_auc(combined[y], combined[~y]),
        similarity_auc=roc_auc(s[y], s[~y]),
        classifier_auc=roc_auc(c[y], c[~y]),
        n_same=int(y.sum()),
        n_other=int((~y).sum()),
        policy_auc=roc_auc(combined[y], combined[policy]) if policy.any() else None,
        n_policy=int(policy.sum()),
    )
