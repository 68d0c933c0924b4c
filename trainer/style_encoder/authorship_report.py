"""The authorship evaluator's markdown tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.style_encoder.authorship_eval import AuthorshipResult


def format_results(
    results: list[AuthorshipResult], held_out: list[str], passages: dict[str, int]
) -> str:
    """A markdown table of the AUCs, with what was held out."""
    lines = [
        "# Authorship on held-out books",
        "",
        f"Held out: {', '.join(held_out)}  ",
        f"Passages: {', '.join(f'{a} {n}' for a, n in passages.items())}",
        "",
        "| model | backend | scorer | AUC vs other authors | AUC vs LLM prose "
        "| AUC vs stuffed LLM prose | stuffing rise (mean / p95) | per author "
        "| score moved vs first backend (max / mean) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per_author = ", ".join(f"{a} {v:.3f}" for a, v in r.auc_per_author.items())
        llm, stuffed = (
            f"{v:.3f}" if v is not None else "-" for v in (r.auc_vs_llm, r.auc_vs_stuffed)
        )
        rise = (
            f"{r.stuffing_rise_mean:+.3f} / {r.stuffing_rise_p95:+.3f}"
            if r.stuffing_rise_mean is not None and r.stuffing_rise_p95 is not None
            else "-"
        )
        moved = (
            f"{r.score_diff_max:.4f} / {r.score_diff_mean:.5f}"
            if r.score_diff_max is not None and r.score_diff_mean is not None
            else "-"
        )
        lines.append(
            f"| {r.model} | {r.backend} | {r.variant} | {r.auc_vs_authors:.3f} | {llm} "
            f"| {stuffed} | {rise} | {per_author} | {moved} |"
        )
    lines += [
        "",
        "## The policy's own writing and cheap attacks",
        "",
        "| model | backend | scorer | author mean | AUC vs policy | policy > 0.5 "
        "| AUC vs policy + topic nouns | policy + nouns > 0.5 | topic stuffing rise "
        "| typography max move | first 29 words max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = [
            _cell(r.mean_score.get(r.author)),
            _cell(r.auc_vs_policy),
            _cell(r.policy_above_half, percent=True),
            _cell(r.auc_vs_policy_nouns),
            _cell(r.policy_nouns_above_half, percent=True),
            _cell(r.topic_rise_mean, signed=True),
            _cell(r.typography_move_max),
            _cell(r.short_max),
        ]
        lines.append(f"| {r.model} | {r.backend} | {r.variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: float | None, *, percent: bool = False, signed: bool = False) -> str:
    """A table cell: `-` for no value.

    >>> _cell(None), _cell(0.0625, percent=True), _cell(0.01, signed=True), _cell(0.5)
    ('-', '6.2%', '+0.010', '0.500')
    """
    if value is None:
        return "-"
    if percent:
        return f"{100 * value:.1f}%"
    return f"{value:+.3f}" if signed else f"{value:.3f}"
