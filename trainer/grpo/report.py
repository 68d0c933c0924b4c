"""A run's report: plots of rewards, KL and completion length per step, the reward-hacking
monitor's checks when it ran, and the best and worst completions of the last steps, as PNG files
and a Markdown and an HTML page in the run folder.

    stylegrpo report runs/grpo-twain
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import yaml

from trainer.common.metrics_log import METRICS_LOG
from trainer.grpo.completions_log import COMPLETIONS_LOG
from trainer.grpo.rewards import completion_text
from trainer.monitor.callback import MONITOR_LOG

LAST_STEPS = 5
SHOWN = 3
EXCERPT_CHARS = 600
MONITOR_PANEL = "reward-hacking monitor"


def write_report(run_dir: Path) -> Path:
    """Write `report.md`, `report.html` and the plots into `run_dir/report/`; return the page."""
    metrics = _read_lines(run_dir / METRICS_LOG)
    completions = _read_lines(run_dir / COMPLETIONS_LOG)
    if not metrics and not completions:
        raise FileNotFoundError(f"{run_dir} has no {METRICS_LOG} or {COMPLETIONS_LOG} to report on")
    weights = _reward_weights(run_dir)
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(metrics, sorted(weights), out)
    checks = _read_lines(run_dir / MONITOR_LOG)
    if checks:
        plots[MONITOR_PANEL] = _monitor_plot(checks, out)
    best, worst = _extremes(completions, weights)
    sections = [(f"{name}", f"{name}.png") for name in plots]
    markdown = [f"# Run report: {run_dir.name}", ""]
    markdown += [f"![{title}]({file})" for title, file in sections]
    page = [f"<h1>Run report: {html.escape(run_dir.name)}</h1>"]
    page += [
        f'<h2>{html.escape(t)}</h2><img src="{f}" alt="{html.escape(t)}">' for t, f in sections
    ]
    alarms = [f"step {check['step']}: {alarm}" for check in checks for alarm in check["alarms"]]
    if alarms:
        markdown += ["", "## Reward-hacking monitor alarms", "", *[f"- {a}" for a in alarms]]
        page.append("<h2>Reward-hacking monitor alarms</h2><ul>")
        page += [f"<li>{html.escape(a)}</li>" for a in alarms] + ["</ul>"]
    for title, rows in (("Best completions", best), ("Worst completions", worst)):
        markdown += ["", f"## {title} (last {LAST_STEPS} steps)", ""]
        page.append(f"<h2>{title} (last {LAST_STEPS} steps)</h2>")
        for total, row in rows:
            rewards = ", ".join(f"{k} {v:.3f}" for k, v in row["rewards"].items() if v is not None)
            text = completion_text(row["completion"])[:EXCERPT_CHARS]
            markdown += [
                f"**step {row['step']}, total {total:.3f}** ({rewards})",
                "",
                "```",
                text,
                "```",
                "",
            ]
            page.append(
                f"<p><b>step {row['step']}, total {total:.3f}</b> ({html.escape(rewards)})</p>"
                f"<pre>{html.escape(text)}</pre>"
            )
    (out / "report.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
    (out / "report.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Run report</title>\n" + "\n".join(page),
        encoding="utf-8",
    )
    return out / "report.html"


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _reward_weights(run_dir: Path) -> dict[str, float]:
    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}
    return {r["name"]: float(r["weight"]) for r in config.get("rewards", [])}


def _plots(metrics: list[dict[str, Any]], rewards: list[str], out: Path) -> dict[str, Path]:
    """One PNG per panel: each reward's mean (with std), total reward, KL, completion length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [m for m in metrics if "reward" in m]
    panels: dict[str, list[tuple[str, str | None, str]]] = {
        "rewards": [(f"rewards/{r}/mean", f"rewards/{r}/std", r) for r in rewards],
        "total reward": [("reward", "reward_std", "weighted total")],
        "kl": [("kl", None, "KL to the reference")],
        "completion length": [("completions/mean_length", None, "mean tokens")],
    }
    written = {}
    for title, series in panels.items():
        figure, axis = plt.subplots(figsize=(7, 3.5))
        for mean_key, std_key, label in series:
            # A step where every sample's reward was skipped logs no value for it.
            present = [m for m in rows if m.get(mean_key) is not None]
            points = [(m["step"], float(m[mean_key])) for m in present]
            if not points:
                continue
            steps = [step for step, _ in points]
            values = [value for _, value in points]
            axis.plot(steps, values, marker="o", label=label)
            if std_key:
                spread = [float(m.get(std_key) or 0.0) for m in present]
                axis.fill_between(
                    steps,
                    [v - s for v, s in zip(values, spread, strict=True)],
                    [v + s for v, s in zip(values, spread, strict=True)],
                    alpha=0.2,
                )
        axis.set_title(title)
        axis.set_xlabel("step")
        if axis.has_data():
            axis.legend(loc="best", fontsize="small")
        figure.tight_layout()
        path = out / f"{title}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written[title] = path
    return written


def _monitor_plot(checks: list[dict[str, Any]], out: Path) -> Path:
    """Per check: the style reward beside the measures it cannot see; alarms as red lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, float]]] = {}
    for check in checks:
        values = {
            "style reward": check["rewards"].get("style"),
            "stylometry closeness": check["stylometry_closeness"],
            "copied fraction": check["copied_fraction"],
            "distinct-2": check["distinct_2"],
        }
        for label, value in values.items():
            if value is not None:
                series.setdefault(label, []).append((check["step"], float(value)))
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for label, points in series.items():
        axis.plot([s for s, _ in points], [v for _, v in points], marker="o", label=label)
    # Above this line a text is nearer the author than any rival author of the books folder.
    axis.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    for i, step in enumerate(c["step"] for c in checks if c["alarms"]):
        axis.axvline(step, color="red", linestyle="--", alpha=0.6, label=None if i else "alarm")
    axis.set_title(MONITOR_PANEL)
    axis.set_xlabel("step")
    axis.set_ylim(-0.02, 1.02)  # keeps points at 0 and 1 whole
    axis.legend(loc="best", fontsize="x-small")
    figure.tight_layout()
    path = out / f"{MONITOR_PANEL}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _extremes(
    completions: list[dict[str, Any]], weights: dict[str, float]
) -> tuple[list[tuple[float, dict[str, Any]]], list[tuple[float, dict[str, Any]]]]:
    if not completions:
        return [], []
    last_step = max(row["step"] for row in completions)
    recent = [row for row in completions if row["step"] > last_step - LAST_STEPS]
    scored = sorted(
        (
            (sum(w * (row["rewards"].get(n) or 0.0) for n, w in weights.items()), row)
            for row in recent
        ),
        key=lambda pair: pair[0],
    )
    return scored[::-1][:SHOWN], scored[:SHOWN]
