"""The learning recipe (`make learn`): its config, its held-out prompts, two of its steps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from trainer.evaluation.prompts import load_prompt_rows
from trainer.grpo.completions_log import COMPLETIONS_LOG
from trainer.grpo.config import load_config
from trainer.grpo.learning_recipe import (
    CONFIG,
    PUBLISHED_FIGURES,
    TEST_PLOTS,
    TRAINING_FIGURES,
    grpo_sampling,
    publish,
    refit_rounds,
    refit_samples_path,
    reward_curve,
    service_env,
    write_prompts,
)
from trainer.grpo.training import train


def test_the_recipe_holds_plots_out_and_samples_as_it_trains(tmp_path: Path) -> None:
    config = load_config(CONFIG, [])
    train_file = write_prompts(tmp_path, config)
    train_rows = [json.loads(line) for line in train_file.read_text().splitlines()]
    test_rows = load_prompt_rows(tmp_path, "test")
    assert len(test_rows) == TEST_PLOTS and len(train_rows) >= 2 * TEST_PLOTS
    assert not {r["plot"] for r in train_rows} & {r.columns["plot"] for r in test_rows}
    assert f"about {config.story_words} words" in test_rows[0].text
    sampling = grpo_sampling(config)
    assert sampling.max_new_tokens == config.grpo["max_completion_length"]
    assert sampling.temperature == config.grpo["temperature"]
    # Every prompt of a step is answered num_generations times: whole groups per generation.
    grpo = config.grpo
    generated = grpo["per_device_train_batch_size"] * grpo["gradient_accumulation_steps"]
    assert generated % grpo["num_generations"] == 0 and generated // grpo["num_generations"] >= 2


def test_refit_rounds_end_at_the_last_step_and_each_names_its_own_samples(
    tmp_path: Path,
) -> None:
    assert refit_rounds(40, 16) == [16, 32, 40]
    assert refit_rounds(24, 24) == refit_rounds(24, 100) == refit_rounds(24, 0) == [24]
    with pytest.raises(ValueError, match="refit interval"):
        refit_rounds(24, -1)
    paths = [refit_samples_path(tmp_path, step) for step in refit_rounds(40, 16)[:-1]]
    assert len(set(paths)) == 2 and all(p.suffix == ".jsonl" for p in paths)
    env = service_env(tmp_path, [tmp_path / "policy-samples.jsonl", *paths], 4.0)
    assert env["STYLE_POLICY_TEXTS"].split(",") == [
        str(tmp_path / "policy-samples.jsonl"),
        *map(str, paths),
    ]


def test_the_reward_curve_averages_blocks_and_names_each_by_its_last_step(tmp_path: Path) -> None:
    config = load_config(CONFIG, ["--run_dir", str(tmp_path)])
    rewards = {"style": 1.0, "content": 0.0, "completeness": None}  # None: a failed reward
    lines = [json.dumps({"step": step, "rewards": rewards}) for step in range(1, 11)]
    (tmp_path / COMPLETIONS_LOG).write_text("\n".join(lines) + "\n")
    curve = reward_curve(config, every=4)
    style_weight = config.rewards[0].weight
    assert curve == pytest.approx({4: style_weight, 8: style_weight, 10: style_weight})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--refit-every", "-1"], "--refit-every must be >= 0 steps"),
        (["--out", "never-written"], "no books at"),
    ],
)
def test_make_learn_refuses_bad_arguments_in_one_line(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    script = Path(__file__).resolve().parents[3] / "scripts" / "learn.py"
    result = subprocess.run(
        [sys.executable, str(script), "--corpus", str(tmp_path), *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "never-written").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--grpo_typo.max_steps", "3"], "unknown key(s) grpo_typo"),
        (["--grpo.max_steps"], "override --grpo.max_steps has no value"),
        (["stray"], "unexpected argument 'stray'"),
    ],
)
def test_make_learn_refuses_bad_config_overrides_before_writing(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    (tmp_path / "books").mkdir()
    script = Path(__file__).resolve().parents[3] / "scripts" / "learn.py"
    out = tmp_path / "never-written"
    result = subprocess.run(
        [sys.executable, str(script), "--corpus", str(tmp_path), "--out", str(out), *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.slow
def test_two_steps_of_the_recipe_run_on_a_tiny_policy(
    tmp_path: Path,
    tiny_policy: Path,
    style_url_for_random_policy: str,
    judge_url: str,
    completeness_service: tuple[str, Any],
) -> None:
    run_dir = tmp_path / "grpo"
    overrides = {
        "model": str(tiny_policy), "run_dir": str(run_dir),
        "prompts_file": str(write_prompts(tmp_path / "prompts", load_config(CONFIG, []))),
        "rewards.0.url": style_url_for_random_policy, "rewards.1.url": judge_url,
        "rewards.2.url": completeness_service[0], "monitor.books_dir": "null",
        "grpo.max_steps": "2", "grpo.max_completion_length": "12", "grpo.save_steps": "2",
        "grpo.learning_rate": "1e-3",
    }  # fmt: skip
    config = load_config(CONFIG, [part for k, v in overrides.items() for part in (f"--{k}", v)])
    final = train(config)
    before, after = (
        load_file(tiny_policy / "model.safetensors"),
        load_file(final / "model.safetensors"),
    )
    assert any(not torch.equal(before[name], after[name]) for name in before)
    curve = reward_curve(config, every=1)
    assert list(curve) == [1, 2] and all(0.0 <= mean <= 1.0 for mean in curve.values())


def fake_learn_run(tmp_path: Path) -> Path:
    """What `make learn` leaves for `publish`: the evaluation's results and stories of 4 plots x
    2 samples, and the training report's figures."""
    run = tmp_path / "learn"
    results = run / "eval" / "results"
    report = run / "grpo" / "report"
    for folder in (results, report):
        folder.mkdir(parents=True)
    figure_lines = "".join(f"![{m}]({m}.png)\n" for m in (*PUBLISHED_FIGURES, "total"))
    (results / "results.md").write_text(f"| metric |\n\n{figure_lines}")
    for name in [f"{m}.png" for m in PUBLISHED_FIGURES]:
        (results / name).write_bytes(b"\x89PNG " + name.encode())
    for name in TRAINING_FIGURES:
        (report / name).write_bytes(b"\x89PNG " + name.encode())
    header = "model,row,sample,style,stylometry,words\n"
    rows = [
        f"{m},{r},{s},0.{r}{s}1,0.5,{100 + r}\n"
        for m in ("base", "trained")
        for r in range(4)
        for s in range(2)
    ]
    (results / "scores.csv").write_text(header + "".join(rows))
    for model in ("base", "trained"):
        (run / "eval" / model).mkdir()
        lines = [
            {"row": r, "sample": s, "prompt": f"Plot {r}.\n\nStart your story:",
             "completion": f"{model} story {r}.{s}\n\nTHE END."}
            for r in range(4) for s in range(2)
        ]  # fmt: skip
        (run / "eval" / model / "completions.jsonl").write_text(
            "".join(json.dumps(line) + "\n" for line in lines)
        )
    return run


def test_publish_copies_the_figures_and_shows_the_first_stories_side_by_side(
    tmp_path: Path,
) -> None:
    written = publish(fake_learn_run(tmp_path), ("base", "trained"), tmp_path / "docs")

    names = {path.name for path in written}
    assert {"results.md", "style.png", "training-rewards.png", "side-by-side.md"} <= names
    assert "training-reward-hacking-monitor.png" in names, "no spaces in published names"
    assert (tmp_path / "docs" / "training-rewards.png").read_bytes() == b"\x89PNG rewards.png"
    page = (tmp_path / "docs" / "side-by-side.md").read_text()
    assert page.count("## ") == 3 and "## 1. Plot 0." in page and "Plot 3." not in page
    assert "> base story 0.0\n>\n> THE END." in page and "trained story 2.0" in page
    assert "story 0.1" not in page, "the first story of each prompt only"
    assert "**trained** (style 0.201, stylometry 0.500, 102 words)" in page


def test_publish_skips_the_figures_a_run_did_not_make(tmp_path: Path) -> None:
    """The monitor's, in a run too short for the monitor; author_vs_rivals, in an evaluation
    with no other author's books."""
    run = fake_learn_run(tmp_path)
    (run / "grpo" / "report" / "reward-hacking monitor.png").unlink()
    (run / "eval" / "results" / "author_vs_rivals.png").unlink()
    written = {path.name for path in publish(run, ("base", "trained"), tmp_path / "docs")}
    assert {"training-rewards.png", "author_lm.png"} <= written
    assert "training-reward-hacking-monitor.png" not in written
    assert "author_vs_rivals.png" not in written
    table = (tmp_path / "docs" / "results.md").read_text()
    assert "![author_lm](author_lm.png)" in table, "a published figure stays on the page"
    assert "author_vs_rivals.png" not in table and "total.png" not in table, "no broken image"
