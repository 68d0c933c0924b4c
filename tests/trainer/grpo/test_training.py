"""Two real GRPO steps (TRL, tiny policy, CPU) against the three reward services on loopback."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from trainer.grpo.config import load_config
from trainer.grpo.rewards import RewardServiceFailed
from trainer.grpo.step_profile import profile_table
from trainer.grpo.training import COMPLETIONS_LOG, train

pytestmark = pytest.mark.slow


def run_config(run_dir: Path, policy: Path, urls: dict[str, str], steps: int, resume: bool) -> Any:
    overrides = {
        "model": str(policy), "run_dir": str(run_dir), "resume": str(resume).lower(),
        "rewards.0.url": urls["style"], "rewards.1.url": urls["content"],
        "rewards.2.url": urls["completeness"],
        "grpo.max_steps": str(steps), "grpo.per_device_train_batch_size": "2",
        "grpo.num_generations": "2", "grpo.max_completion_length": "12",
        "grpo.save_steps": "1", "grpo.logging_steps": "1", "grpo.report_to": "none",
        "grpo.learning_rate": "1e-3",
    }  # fmt: skip
    return load_config(None, [part for k, v in overrides.items() for part in (f"--{k}", v)])


def test_grpo_trains_logs_every_reward_and_resumes(
    tmp_path: Path,
    tiny_policy: Path,
    style_url_for_random_policy: str,
    judge_url: str,
    completeness_service: tuple[str, Any],
) -> None:
    urls = {
        "style": style_url_for_random_policy,
        "content": judge_url,
        "completeness": completeness_service[0],
    }
    run_dir = tmp_path / "run"
    final = train(run_config(run_dir, tiny_policy, urls, steps=2, resume=False))

    before, after = (
        load_file(tiny_policy / "model.safetensors"),
        load_file(final / "model.safetensors"),
    )
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert changed, "GRPO must update the policy's parameters"

    lines = [json.loads(line) for line in (run_dir / COMPLETIONS_LOG).read_text().splitlines()]
    assert len(lines) == 4, "2 steps x 2 completions"
    assert [line["step"] for line in lines] == [1, 1, 2, 2]
    for line in lines:
        assert set(line["rewards"]) == {"style", "content", "completeness"}
        assert all(isinstance(v, float) for v in line["rewards"].values())
        assert set(line["details"]) == {"style", "content", "completeness"}
    assert (run_dir / "checkpoints" / "checkpoint-2").is_dir()
    assert (run_dir / "config.yaml").is_file()
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "reward" in m] == [1, 2]
    assert all("rewards/style/mean" in m for m in metrics if "reward" in m)
    timed = [m for m in metrics if "time/step" in m]
    assert [m["step"] for m in timed] == [1, 2], "every step says where its time went"
    for m in timed:
        each = [m[f"time/reward/{name}"] for name in urls]
        # Called concurrently: together they take at least the slowest and at most the sum.
        assert max(each) <= m["time/rewards"] <= sum(each) + 1e-6
        assert m["time/rewards"] + m["time/optimizer"] + m["time/policy"] == pytest.approx(
            m["time/step"]
        )
        assert min(m["time/optimizer"], m["time/policy"]) > 0
        passes = m["time/policy/loss"], m["time/policy/backward"]
        assert min(passes) > 0 and sum(passes) < m["time/policy"]
    assert "| rewards |" in profile_table(metrics)
    report = run_dir / "report"
    for page in ("report.html", "report.md", "rewards.png", "kl.png"):
        assert (report / page).is_file(), page
    assert (report / "rewards.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Best completions" in (report / "report.md").read_text()

    train(run_config(run_dir, tiny_policy, urls, steps=3, resume=True))
    state = json.loads(
        (run_dir / "checkpoints" / "checkpoint-3" / "trainer_state.json").read_text()
    )
    assert state["global_step"] == 3
    steps = Counter(json.loads(line)["step"] for line in (run_dir / COMPLETIONS_LOG).open())
    assert steps == {1: 2, 2: 2, 3: 2}, steps
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    assert [m["step"] for m in logged if "reward" in m] == [1, 2, 3], "no step logged twice"

    again = train(run_config(run_dir, tiny_policy, urls, steps=3, resume=True))
    steps = Counter(json.loads(line)["step"] for line in (run_dir / COMPLETIONS_LOG).open())
    assert steps == {1: 2, 2: 2, 3: 2}, "a finished run resumed trains no further step"
    checkpoint = load_file(run_dir / "checkpoints" / "checkpoint-3" / "model.safetensors")
    exported = load_file(again / "model.safetensors")
    assert all(torch.equal(checkpoint[name], exported[name]) for name in checkpoint)
    assert not (again / "optimizer.pt").exists()
    # Three runs in one process: each line logged once, not once per run so far.
    log_lines = (run_dir / "train.log").read_text().splitlines()
    assert log_lines and len(set(log_lines)) == len(log_lines)


def completeness_only(
    run_dir: Path, policy: Path, url: str, on_failure: str, retries: int = 0, lora: bool = False
) -> Any:
    overrides = {
        "model": str(policy), "run_dir": str(run_dir), "preflight": "false",
        "rewards": json.dumps([{
            "name": "completeness", "url": url, "weight": 1.0, "max_retries": retries,
            "on_failure": on_failure, "max_failed_steps": 10,
        }]),
        "grpo.max_steps": "3", "grpo.per_device_train_batch_size": "2",
        "grpo.num_generations": "2", "grpo.max_completion_length": "8",
        "grpo.save_steps": "1", "grpo.logging_steps": "1", "grpo.report_to": "none",
        "lora.enabled": str(lora).lower(), "lora.target_modules": '["q_proj", "v_proj"]',
    }  # fmt: skip
    return load_config(None, [part for k, v in overrides.items() for part in (f"--{k}", v)])


def test_an_outage_with_skip_leaves_those_rewards_out_and_training_goes_on(
    tmp_path: Path, tiny_policy: Path, completeness_service: tuple[str, Any]
) -> None:
    url, faults = completeness_service
    faults.fail_after = 1  # the service dies after the first step's request
    run_dir = tmp_path / "run"
    train(completeness_only(run_dir, tiny_policy, url, "skip"))
    rewards = [
        json.loads(line)["rewards"]["completeness"] for line in (run_dir / COMPLETIONS_LOG).open()
    ]
    assert rewards[:2] != [None, None] and rewards[2:] == [None] * 4
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    assert [m.get("rewards/completeness/failures") for m in metrics if "reward" in m][1:] == [
        1.0,
        1.0,
    ]
    assert (run_dir / "checkpoints" / "checkpoint-3").is_dir()


def test_an_outage_with_raise_stops_cleanly_with_the_cause(
    tmp_path: Path, tiny_policy: Path, completeness_service: tuple[str, Any]
) -> None:
    url, faults = completeness_service
    faults.fail_after = 1
    run_dir = tmp_path / "run"
    with pytest.raises(RewardServiceFailed, match=f"completeness service at {url}.*HTTP 503"):
        train(completeness_only(run_dir, tiny_policy, url, "raise"))
    checkpoint = run_dir / "checkpoints" / "checkpoint-1"
    assert (checkpoint / "model.safetensors").is_file(), "the last checkpoint stays intact"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert state["global_step"] == 1


def test_503_twice_mid_run_is_retried_and_no_step_loses_its_reward(
    tmp_path: Path, tiny_policy: Path, completeness_service: tuple[str, Any]
) -> None:
    url, faults = completeness_service
    faults.fail_next = 2
    run_dir = tmp_path / "run"
    train(completeness_only(run_dir, tiny_policy, url, "raise", retries=3))
    rewards = [
        json.loads(line)["rewards"]["completeness"] for line in (run_dir / COMPLETIONS_LOG).open()
    ]
    assert len(rewards) == 6 and None not in rewards
    assert faults.requests == 3 + 2, "three steps, two of their requests retried"


def test_lora_trains_adapters_only(
    tmp_path: Path, tiny_policy: Path, completeness_service: tuple[str, Any]
) -> None:
    run_dir = tmp_path / "run"
    final = train(
        completeness_only(run_dir, tiny_policy, completeness_service[0], "raise", lora=True)
    )
    assert (final / "adapter_config.json").is_file()
    assert json.loads((final / "adapter_config.json").read_text())["r"] == 8
