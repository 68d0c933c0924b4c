"""The learning recipe (`make learn`): its config, its held-out prompts, two of its steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from trainer.config import load_config
from trainer.evaluation.prompts import load_prompt_rows
from trainer.grpo import train
from trainer.learning_recipe import CONFIG, TEST_PLOTS, grpo_sampling, reward_curve, write_prompts


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
        # 12 tokens always hit the limit: the recipe masks such completions out of the loss.
        "grpo.mask_truncated_completions": "false", "grpo.learning_rate": "1e-3",
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
