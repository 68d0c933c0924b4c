"""The results table: mean and standard deviation of every measure per model, side by side,
with the second model's difference from the first; as CSV and as Markdown."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# What each measure is, for the Markdown legend; rewards come first, in the run's order.
DESCRIPTIONS = {
    "style": "style service, 0..1 (the training's style reward)",
    "content": "judge service, 0..1 (the training's content reward)",
    "completeness": "completeness service, 0..1 (the training's completeness reward)",
    "total": "the rewards weighted as in training",
    "stylometry": "function-word Delta, 0..1, above 0.5 = nearer the author than any other "
    "(never a reward)",
    "stylometry_delta": "cosine Delta to the author's profile, 0..2, lower is nearer",
    "words": "length in words",
    "truncated": "share of completions cut by the token limit",
}


def summarize(
    scores: Mapping[str, Sequence[Mapping[str, Any]]], measures: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per measure: `NAME_mean`, `NAME_std`, `NAME_n` per model, then `difference`.

    NaN values (a measure that does not apply to a text) are left out of mean, std and n.

    >>> rows = summarize({"a": [{"x": 1.0}, {"x": 3.0}], "b": [{"x": 4.0}, {"x": math.nan}]}, ["x"])
    >>> rows[0]["a_mean"], rows[0]["a_std"], rows[0]["b_n"], rows[0]["difference"]
    (2.0, 1.0, 1, 2.0)
    """
    names = list(scores)
    table = []
    for measure in measures:
        row: dict[str, Any] = {"metric": measure}
        for name in names:
            values = np.array([float(s[measure]) for s in scores[name]], dtype=float)
            values = values[~np.isnan(values)]
            row[f"{name}_mean"] = float(values.mean()) if values.size else math.nan
            row[f"{name}_std"] = float(values.std()) if values.size else math.nan
            row[f"{name}_n"] = int(values.size)
        if len(names) == 2:
            row["difference"] = row[f"{names[1]}_mean"] - row[f"{names[0]}_mean"]
        table.append(row)
    return table


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of dicts as CSV, columns in the first row's order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """The summary as a Markdown table: `mean ± std (n)` per model, then the difference.

    >>> print(markdown_table(summarize({"a": [{"x": 0.25}]}, ["x"]), ["a"]))
    | metric | a |
    | --- | --- |
    | x | 0.250 ± 0.000 (n=1) |
    """
    header = ["metric", *names] + ([f"{names[1]} - {names[0]}"] if len(names) == 2 else [])
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        digits = 1 if row["metric"] == "words" else 3
        cells = [str(row["metric"])]
        for name in names:
            mean, std, n = row[f"{name}_mean"], row[f"{name}_std"], row[f"{name}_n"]
            cells.append(f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})")
        if len(names) == 2:
            cells.append(f"{row['difference']:+.{digits}f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
