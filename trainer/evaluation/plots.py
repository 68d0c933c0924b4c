"""One PNG per measure: each model's values as a box plot with every value drawn over it."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

JITTER = 0.08  # horizontal spread of the points, so equal values stay visible


def plot_measures(
    scores: Mapping[str, Sequence[Mapping[str, Any]]],
    measures: Sequence[str],
    out: Path,
    *,
    unit_interval: Collection[str] = (),
) -> dict[str, Path]:
    """Write `out/MEASURE.png` for each measure, on a 0..1 axis for those in `unit_interval`;
    return the files by measure. A triangle marks each model's mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(scores)
    rng = np.random.default_rng(0)
    written = {}
    for measure in measures:
        values = [
            [float(s[measure]) for s in scores[name] if not math.isnan(float(s[measure]))]
            for name in names
        ]
        figure, axis = plt.subplots(figsize=(2.2 + 1.6 * len(names), 3.5))
        positions = [i + 1 for i, v in enumerate(values) if v]
        if positions:
            axis.boxplot(
                [v for v in values if v],
                positions=positions,
                widths=0.5,
                showmeans=True,
                showfliers=False,  # every value is drawn as a point already
            )
        for position, points in enumerate(values, start=1):
            axis.scatter(
                position + rng.uniform(-JITTER, JITTER, len(points)), points, s=12, alpha=0.6
            )
        axis.set_xticks(range(1, len(names) + 1), names, rotation=10)
        axis.set_xlim(0.4, len(names) + 0.6)
        if measure in unit_interval:
            axis.set_ylim(-0.03, 1.03)
        axis.set_title(measure)
        figure.tight_layout()
        path = out / f"{measure}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written[measure] = path
    return written
