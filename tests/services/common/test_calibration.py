"""Calibration: a logistic map fitted from same- vs other-author similarities."""

from __future__ import annotations

import numpy as np
import pytest

from services.common.calibration import fit_calibration, roc_auc


def test_roc_auc_counts_pairs_and_ties() -> None:
    assert roc_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert roc_auc(np.array([1.0]), np.array([2.0])) == 0.0
    assert roc_auc(np.array([1.0, 3.0]), np.array([1.0, 2.0])) == pytest.approx(0.625)


def test_fit_puts_the_boundary_between_the_classes() -> None:
    rng = np.random.default_rng(0)
    same = rng.normal(0.6, 0.1, 400)
    other = rng.normal(0.1, 0.1, 1200)
    calibration = fit_calibration(same, other)
    assert calibration.centre == pytest.approx(0.35, abs=0.03)
    assert calibration.slope > 0
    low, middle, high = calibration.apply(np.array([0.1, calibration.centre, 0.6]))
    assert low < 0.1 and middle == pytest.approx(0.5) and high > 0.9
    assert calibration.auc > 0.99
    assert calibration.to_dict()["n_same"] == 400


def test_fit_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        fit_calibration(np.array([0.5]), np.array([0.1, 0.2]))
