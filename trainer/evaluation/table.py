"""The results table: mean and standard deviation of every measure per model, side by side,
with the second model's difference from the first and its 95% bootstrap interval; as CSV and
as Markdown."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trainer.evaluation.intervals import difference_interval

# What each measure is, for the Markdown legend; rewards come first, in the run's order.
DESCRIPTIONS = {
    "style": "style service, 0..1 (the training's style reward)",
    "content": "judge service, 0..1 (the training's content reward)",
    "completeness": "completeness service, 0..1 (the training's completeness reward)",
    "total": "the rewards weighted as in training",
    "copied": "share of the words in passages copied from the author's books (the style "
    "service's copy guard; never a reward by itself)",
    "stylometry": "function-word Delta, 0..1, above 0.5 = nearer the author than any other "
    "(never a reward)",
    "stylometry_delta": "cosine Delta to the author's profile, 0..2, lower is nearer",
    "author_lm": "log-likelihood ratio, nats/token, of SmolLM2 fine-tuned on the author's books "
    "over SmolLM2; higher is nearer the author's books, or any book's prose (never a reward)",
    "author_vs_rivals": "log-likelihood ratio, nats/token, of SmolLM2 fine-tuned on the author's "
    "books over SmolLM2 fine-tuned on the other authors' books; above 0 = likelier the author's "
    "than theirs (never a reward)",
    "distinct_2": "distinct word bigrams (lowercased) over all bigrams of a completion, 0..1, "
    "lower is more repetitive",
    "words": "length in words",
    "truncated": "share of completions cut by the token limit",
}
# Marks a difference whose interval leaves out 0 in the Markdown table.
EXCLUDES_ZERO = "*"


def summarize(
    scores: Mapping[str, Sequence[Mapping[str, Any]]], measures: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per measure: `NAME_mean`, `NAME_std`, `NAME_n` per model; with two models, then
    `difference` (second minus first) and its 95% interval, `difference_low` to `_high`.

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
            first, second = (scores[name] for name in names)
            row["difference"] = row[f"{names[1]}_mean"] - row[f"{names[0]}_mean"]
            row["difference_low"], row["difference_high"] = difference_interval(
                first, second, measure
            )
        table.append(row)
    return table


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of dicts as CSV, columns in the first row's order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """The summary as a Markdown table: `mean ± std (n)` per model, then the difference with
    its interval, starred (`EXCLUDES_ZERO`) where the interval leaves out 0.

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
            cells.append(difference_cell(row, digits))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def difference_cell(row: Mapping[str, Any], digits: int = 3) -> str:
    """`+0.300 [+0.250, +0.350] *`: the difference, its interval, and a star when the interval
    leaves out 0; the difference alone where there is no interval.

    >>> difference_cell({"difference": 0.3, "difference_low": 0.25, "difference_high": 0.35})
    '+0.300 [+0.250, +0.350] *'
    >>> difference_cell({"difference": 0.1, "difference_low": -0.05, "difference_high": 0.2})
    '+0.100 [-0.050, +0.200]'
    >>> difference_cell({"difference": 0.1, "difference_low": math.nan, "difference_high": 0.2})
    '+0.100'
    """
    difference, low, high = row["difference"], row["difference_low"], row["difference_high"]
    cell = f"{difference:+.{digits}f}"
    if math.isnan(low) or math.isnan(high):
        return cell
    cell += f" [{low:+.{digits}f}, {high:+.{digits}f}]"
    return cell + f" {EXCLUDES_ZERO}" if low > 0 or high < 0 else cell
