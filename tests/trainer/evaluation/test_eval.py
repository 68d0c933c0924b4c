"""`stylegrpo eval` end to end: the embedded SmolLM2 writes short stories, the three real
services on 127.0.0.1 and the stylometric measure score them, and the results are written."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stylegrpo.cli import build_app
from trainer.common.policy_model import EMBEDDED_POLICY
from trainer.evaluation.generation import SamplingSettings
from trainer.evaluation.run import EvaluationSetup, ModelToEvaluate, evaluate
from trainer.grpo.prompts import plot_prompts
from trainer.grpo.reward_config import default_rewards

pytestmark = pytest.mark.slow

SCORES_IN_0_1 = (
    "style", "content", "completeness", "total", "copied", "stylometry", "distinct_2",
)  # fmt: skip
MEASURES = [
    "style", "content", "completeness", "total", "copied", "stylometry", "stylometry_delta",
    "distinct_2", "words", "truncated",
]  # fmt: skip


@pytest.fixture
def prompts_file(tmp_path: Path, twain_passages: list[str]) -> Path:
    """Three plot prompts, each with a Twain passage as its `sample_text`."""
    path = tmp_path / "prompts.jsonl"
    rows = [
        {**row, "sample_text": " ".join(passage.split()[:300])}
        for row, passage in zip(plot_prompts("Mark Twain", 300), twain_passages, strict=False)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def test_eval_one_model_writes_table_and_plots_then_resumes(
    prompts_file: Path,
    tmp_path: Path,
    corpus_books: Path,
    style_url: str,
    judge_url: str,
    completeness_service: tuple[str, Any],
) -> None:
    out = tmp_path / "eval"
    args = [
        "eval", "--prompts", str(prompts_file), "--model", EMBEDDED_POLICY, "--out", str(out),
        "--books", str(corpus_books), "--limit", "2", "--num-samples", "1",
        "--max-new-tokens", "32", "--style-url", style_url, "--judge-url", judge_url,
        "--completeness-url", completeness_service[0], "--no-author-lm",
    ]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output

    completions = out / "smollm2-135m-instruct" / "completions.jsonl"
    lines = [json.loads(line) for line in completions.read_text(encoding="utf-8").splitlines()]
    assert [(line["row"], line["sample"]) for line in lines] == [(0, 0), (1, 0)]
    assert all(line["completion"].strip() and 0 < line["tokens"] <= 32 for line in lines)

    results = out / "results"
    summary = read_csv(results / "results.csv")
    assert [row["metric"] for row in summary] == MEASURES
    assert list(summary[0]) == [
        "metric", "smollm2-135m-instruct_mean", "smollm2-135m-instruct_std",
        "smollm2-135m-instruct_n",
    ]  # fmt: skip
    scores = read_csv(results / "scores.csv")
    assert len(scores) == 2
    for row in scores:
        for measure in SCORES_IN_0_1:
            assert 0.0 <= float(row[measure]) <= 1.0, (measure, row)
        assert 0.0 <= float(row["stylometry_delta"]) <= 2.0
        assert int(row["words"]) > 0
    for measure in MEASURES:
        assert_png(results / f"{measure}.png")
    page = (results / "results.md").read_text(encoding="utf-8")
    assert "| style | " in page and "(n=2)" in page and "![stylometry](stylometry.png)" in page
    assert "| metric | smollm2-135m-instruct |" in result.output

    before = completions.read_bytes()
    rerun = CliRunner().invoke(build_app(), args)
    assert rerun.exit_code == 0, rerun.output
    assert completions.read_bytes() == before, "a rerun reuses the saved completions"
    assert read_csv(results / "scores.csv") == scores


def test_two_models_side_by_side_with_their_difference(
    prompts_file: Path,
    tmp_path: Path,
    corpus_books: Path,
    style_url: str,
    judge_url: str,
    completeness_service: tuple[str, Any],
) -> None:
    rewards = default_rewards()
    for spec, url in zip(rewards, [style_url, judge_url, completeness_service[0]], strict=True):
        spec.url = url
    rewards[0].reference_column = "sample_text"  # the original's style reward: vs the row's text
    models = [
        ModelToEvaluate(
            "greedy", EMBEDDED_POLICY, SamplingSettings(max_new_tokens=32, temperature=0)
        ),
        ModelToEvaluate(
            "hot", EMBEDDED_POLICY, SamplingSettings(max_new_tokens=32, temperature=1.5, seed=7)
        ),
    ]
    setup = EvaluationSetup(
        prompts=prompts_file, out=tmp_path / "eval", rewards=rewards, books=corpus_books,
        author="mark-twain", limit=2, batch_size=2, author_lm=False,
    )  # fmt: skip
    results = evaluate(models, setup)

    summary = {row["metric"]: row for row in read_csv(results / "results.csv")}
    assert list(summary) == MEASURES
    assert list(summary["style"]) == [
        "metric", "greedy_mean", "greedy_std", "greedy_n", "hot_mean", "hot_std", "hot_n",
        "difference", "difference_low", "difference_high",
    ]  # fmt: skip
    for row in summary.values():
        assert row["greedy_n"] == row["hot_n"] == "2"
        difference = float(row["hot_mean"]) - float(row["greedy_mean"])
        assert float(row["difference"]) == pytest.approx(difference)
        low, high = float(row["difference_low"]), float(row["difference_high"])
        assert low <= difference + 1e-9 and difference - 1e-9 <= high
    for measure in SCORES_IN_0_1:
        for name in ("greedy", "hot"):
            assert 0.0 <= float(summary[measure][f"{name}_mean"]) <= 1.0
    scores = read_csv(results / "scores.csv")
    assert [(s["model"], s["row"]) for s in scores] == [
        ("greedy", "0"), ("greedy", "1"), ("hot", "0"), ("hot", "1"),
    ]  # fmt: skip
    texts = {
        name: (tmp_path / "eval" / name / "completions.jsonl").read_text(encoding="utf-8")
        for name in ("greedy", "hot")
    }
    assert texts["greedy"] != texts["hot"]
    page = (results / "results.md").read_text(encoding="utf-8")
    assert "| metric | greedy | hot | hot - greedy |" in page
    assert "percentile bootstrap interval, 2000 resamples of the prompt rows" in page
    assert "(paired)" in page
    assert_png(results / "style.png")
