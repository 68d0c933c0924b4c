"""How sure a difference of two models' means is: a 95% bootstrap interval.

Both models of an evaluation answer the same prompt rows, `num_samples` times each, with the
same sampling; a hard prompt is hard for both, so resampling the prompt rows (each carrying all
its completions of both models) keeps that shared difficulty out of the interval. This paired
bootstrap needs the two models' records to share their (row, sample) keys; records that do not
are resampled as two independent samples instead, a wider interval on the same data.

The interval is the percentile one: the 2.5th and 97.5th percentiles of the resampled
differences. Each resampled mean is taken as `summarize` takes the reported one, over every
value that is not NaN, so the interval is around the reported difference. Resampling draws from
a fixed seed: the same scores always give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

RESAMPLES = 2000
CONFIDENCE = 0.95

Records = Sequence[Mapping[str, Any]]


def shares_prompts(first: Records, second: Records) -> bool:
    """Whether the two models' records hold the same (row, sample) keys, once each: pairable.

    >>> shares_prompts([{"row": 0, "sample": 0}], [{"row": 0, "sample": 0}])
    True
    >>> shares_prompts([{"row": 0, "sample": 0}], [{"row": 1, "sample": 0}])
    False
    """
    keys = [(record.get("row"), record.get("sample")) for record in first]
    others = [(record.get("row"), record.get("sample")) for record in second]
    complete = all(None not in key for key in keys)
    return complete and len(set(keys)) == len(keys) == len(others) and set(keys) == set(others)


def difference_interval(
    first: Records,
    second: Records,
    measure: str,
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float]:
    """The bootstrap interval of `second`'s mean of `measure` minus `first`'s; NaN ends when a
    model has fewer than two prompt rows (paired) or values (independent) to resample.

    >>> a = [{"row": r, "sample": 0, "x": float(r)} for r in range(20)]
    >>> b = [{**record, "x": record["x"] + 0.5} for record in a]
    >>> [round(end, 6) for end in difference_interval(a, b, "x")]
    [0.5, 0.5]
    """
    rng = np.random.default_rng(seed)
    if shares_prompts(first, second):
        differences = _paired_differences(first, second, measure, resamples, rng)
    else:
        differences = _mean_resamples(second, measure, resamples, rng) - _mean_resamples(
            first, measure, resamples, rng
        )
    differences = differences[np.isfinite(differences)]
    if not differences.size:
        return math.nan, math.nan
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)


def _paired_differences(
    first: Records, second: Records, measure: str, resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Resampled differences of means, each resample one draw of the prompt rows for both."""
    rows = sorted({record["row"] for record in first})
    if len(rows) < 2:
        return np.full(resamples, math.nan)
    # How often each row is drawn in each resample: rows with replacement, as many as there are.
    draws = rng.multinomial(len(rows), np.full(len(rows), 1 / len(rows)), size=resamples)
    index = {row: i for i, row in enumerate(rows)}
    means = []
    for records in (first, second):
        values = _values(records, measure)
        where = np.array([index[record["row"]] for record in records], dtype=np.intp)
        kept = ~np.isnan(values)
        sums = np.bincount(where[kept], weights=values[kept], minlength=len(rows))
        counts = np.bincount(where[kept], minlength=len(rows)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):  # a resample with no value: NaN
            means.append((draws @ sums) / (draws @ counts))
    return np.asarray(means[1] - means[0], dtype=np.float64)


def _mean_resamples(
    records: Records, measure: str, resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Means of `resamples` draws, with replacement, of one model's values that are not NaN."""
    values = _values(records, measure)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return np.full(resamples, math.nan)
    draws = rng.multinomial(values.size, np.full(values.size, 1 / values.size), size=resamples)
    return np.asarray((draws @ values) / values.size, dtype=np.float64)


def _values(records: Records, measure: str) -> NDArray[np.float64]:
    return np.array([float(record[measure]) for record in records], dtype=float)
