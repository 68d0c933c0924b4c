"""The difference of two models' means and its bootstrap interval, on crafted scores whose true
difference is known: paired over prompt rows where the models answered the same ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from trainer.evaluation.intervals import difference_interval, shares_prompts
from trainer.evaluation.table import markdown_table, summarize

ROWS, SAMPLES = 40, 3


def crafted(shift: float, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two models on the same rows and samples: each row has a difficulty both models share
    (spread 0.2), the second model scores `shift` higher, each completion has noise 0.05."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.5, 0.2, ROWS)
    first, second = [], []
    for row in range(ROWS):
        for sample in range(SAMPLES):
            key = {"row": row, "sample": sample}
            first.append({**key, "x": difficulty[row] + rng.normal(0, 0.05)})
            second.append({**key, "x": difficulty[row] + shift + rng.normal(0, 0.05)})
    return first, second


def unpaired(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same values without their (row, sample) keys: nothing to pair them by."""
    return [{"x": record["x"]} for record in records]


def test_a_known_difference_lies_inside_an_interval_that_leaves_out_zero() -> None:
    first, second = crafted(shift=0.3, seed=1)
    low, high = difference_interval(first, second, "x")
    assert low < 0.3 < high
    assert low > 0
    row = summarize({"a": first, "b": second}, ["x"])[0]
    assert row["difference_low"] < row["difference"] < row["difference_high"]
    assert (row["difference_low"], row["difference_high"]) == (low, high)


def test_identical_models_have_an_interval_at_zero() -> None:
    first, _ = crafted(shift=0.0, seed=2)
    assert difference_interval(first, first, "x") == pytest.approx((0.0, 0.0), abs=1e-12)
    # The same model sampled again: a difference of noise only, an interval around 0.
    again, other = crafted(shift=0.0, seed=3)
    low, high = difference_interval(again, other, "x")
    assert low < 0 < high


def test_pairing_by_rows_narrows_the_interval_of_correlated_scores() -> None:
    first, second = crafted(shift=0.3, seed=4)
    assert shares_prompts(first, second)
    assert not shares_prompts(unpaired(first), unpaired(second))
    paired_low, paired_high = difference_interval(first, second, "x")
    low, high = difference_interval(unpaired(first), unpaired(second), "x")
    assert low < 0.3 < high, "the independent interval holds the difference too"
    # The shared row difficulty (0.2) dominates the unpaired spread, not the paired one.
    assert (paired_high - paired_low) * 3 < high - low


def test_records_that_do_not_share_keys_are_resampled_independently() -> None:
    first, second = crafted(shift=0.3, seed=5)
    fewer = second[: len(second) // 2]  # the second model answered half the rows
    assert not shares_prompts(first, fewer)
    low, high = difference_interval(first, fewer, "x")
    assert low < 0.3 < high and low > 0


def test_the_interval_is_deterministic() -> None:
    first, second = crafted(shift=0.3, seed=6)
    assert difference_interval(first, second, "x") == difference_interval(first, second, "x")
    assert difference_interval(first, second, "x", seed=1) != difference_interval(
        first, second, "x"
    )


def test_nan_values_are_left_out() -> None:
    first, second = crafted(shift=0.3, seed=7)
    blanked = [{**record, "x": math.nan} if record["row"] % 4 == 0 else record for record in second]
    low, high = difference_interval(first, blanked, "x")
    assert low < 0.3 < high and low > 0
    row = summarize({"a": first, "b": blanked}, ["x"])[0]
    assert row["b_n"] == len(second) * 3 // 4
    assert row["difference_low"] < row["difference"] < row["difference_high"]

    nothing = [{**record, "x": math.nan} for record in second]
    assert all(math.isnan(end) for end in difference_interval(first, nothing, "x"))
    assert all(math.isnan(end) for end in difference_interval(first[:1], second[:1], "x")), (
        "one prompt row has nothing to resample"
    )


def test_the_markdown_shows_the_interval_and_stars_those_that_leave_out_zero() -> None:
    first, second = crafted(shift=0.3, seed=8)
    for records in (first, second):
        for record in records:
            record["y"] = 0.5  # the same for both: no difference
    rows = summarize({"a": first, "b": second}, ["x", "y"])
    assert list(rows[0])[-3:] == ["difference", "difference_low", "difference_high"]
    lines = markdown_table(rows, ["a", "b"]).splitlines()
    assert lines[0] == "| metric | a | b | b - a |"
    x = rows[0]
    assert lines[2].endswith(
        f"| {x['difference']:+.3f} [{x['difference_low']:+.3f}, {x['difference_high']:+.3f}] * |"
    )
    assert lines[3].endswith("| +0.000 [+0.000, +0.000] |")


def test_summarize_is_quick_on_a_real_sized_run() -> None:
    """100 rows of 10 samples and 10 measures: the intervals must not slow the eval down."""
    import time

    rng = np.random.default_rng(9)
    measures = [f"m{i}" for i in range(10)]
    scores = {
        name: [
            {"row": row, "sample": sample, **{m: rng.random() for m in measures}}
            for row in range(100)
            for sample in range(10)
        ]
        for name in ("a", "b")
    }
    started = time.perf_counter()
    summarize(scores, measures)
    assert time.perf_counter() - started < 5.0
