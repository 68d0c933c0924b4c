"""The run configuration: YAML, `--key value` overrides, and errors that name the key."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainer.common.config_loading import ConfigError
from trainer.grpo.config import load_config
from trainer.sft.config import load_sft_config
from trainer.style_encoder.config import load_style_encoder_config

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_configs_load_with_the_originals_hyperparameters() -> None:
    twain = load_config(ROOT / "configs" / "grpo_twain.yaml", [])
    assert [r.weight for r in twain.rewards] == [0.6, 0.3, 0.1]
    assert [r.name for r in twain.rewards] == ["style", "content", "completeness"]
    grpo = twain.grpo
    assert (grpo["learning_rate"], grpo["beta"], grpo["epsilon"], grpo["epsilon_high"]) == (
        3e-6, 0.035, 0.2, 0.28,
    )  # fmt: skip
    assert grpo["num_generations"] == 16 and grpo["loss_type"] == "dr_grpo"
    assert grpo["scale_rewards"] == "none" and grpo["mask_truncated_completions"] is True
    assert grpo["use_vllm"] is True and grpo["vllm_mode"] == "server"
    smoke = load_config(ROOT / "configs" / "grpo_cpu_smoke.yaml", [])
    assert smoke.grpo["max_steps"] <= 10


def test_overrides_reach_nested_keys_and_parse_values(tmp_path: Path) -> None:
    config = load_config(
        ROOT / "configs" / "grpo_cpu_smoke.yaml",
        ["--grpo.learning_rate", "1e-4", "--rewards.1.url=http://judge:9", "--resume", "true",
         "--lora.enabled", "true", "--run_dir", str(tmp_path)],
    )  # fmt: skip
    assert config.grpo["learning_rate"] == 1e-4
    assert config.rewards[1].url == "http://judge:9" and config.rewards[1].name == "content"
    assert config.resume is True and config.lora.enabled is True and config.run_dir == tmp_path


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--modle", "x"], "unknown key"),
        (["--rewards.0.wieght", "1"], "rewards.0.wieght"),
        (["--lora.rank", "4"], "lora.rank"),
        (["grpo.max_steps", "3"], "--key value"),
        (["--max_steps"], "has no value"),
    ],
)
def test_bad_keys_are_named(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


@pytest.mark.parametrize(
    ("load", "overrides", "message"),
    [
        (load_config, ["--grpo.learning_rat", "1e-5"],
         "unknown key grpo.learning_rat (not a GRPOConfig argument); closest: grpo.learning_rate"),
        (load_sft_config, ["--sft.num_train_epoch", "1"],
         "unknown key sft.num_train_epoch (not a SFTConfig argument); closest: "
         "sft.num_train_epochs"),
        (load_style_encoder_config, ["--training.warmup_ratioo", "0.1"],
         "unknown key training.warmup_ratioo (not a SentenceTransformerTrainingArguments "
         "argument); closest: training.warmup_ratio"),
        (load_config, ["--grpo.no_such_argument", "1"], "unknown key grpo.no_such_argument"),
    ],
)  # fmt: skip
def test_each_stage_names_an_unknown_trainer_argument_at_load_time(
    load: Callable[[Path | None, list[str]], Any], overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(None, overrides)
    assert str(raised.value).startswith(message)


def test_cli_reports_a_bad_config_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: x\n")
    result = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "train", "grpo", "--config", str(bad)],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "modle" in result.stderr


@pytest.mark.parametrize(
    ("name", "processes", "kind"),
    [("1gpu", 1, "NO"), ("4gpu_ddp", 4, "MULTI_GPU"), ("zero3", 4, "DEEPSPEED")],
)
def test_accelerate_configs_parse_with_accelerate(name: str, processes: int, kind: str) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(str(ROOT / "configs" / "accelerate" / f"{name}.yaml"))
    assert config.num_processes == processes and config.distributed_type.value == kind
    assert config.mixed_precision == "bf16"


def test_report_of_an_empty_run_says_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "report", str(tmp_path)],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "metrics.jsonl" in result.stderr
