"""The trainer's HTTP reward functions against a real completeness service on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shared.child_processes import free_port
from trainer.grpo.completions_log import CompletionsRecorder
from trainer.grpo.preflight import PreflightError, check_services
from trainer.grpo.reward_config import RewardSpec
from trainer.grpo.rewards import RewardServiceFailed, build_reward_function

STORY = " ".join(["The river ran wide and slow past the town that summer."] * 3) + "\nTHE END."
PROMPTS = [[{"role": "user", "content": "Write a story about a river."}]] * 2
COMPLETIONS = [[{"role": "assistant", "content": STORY}], [{"role": "assistant", "content": "No"}]]


def spec(url: str, **fields: Any) -> RewardSpec:
    return RewardSpec(
        **{"name": "completeness", "url": url, "weight": 0.1, "max_retries": 2, **fields}
    )


def call(function: Any, **kwargs: Any) -> list[float | None]:
    async def run() -> list[float | None]:
        return await function(prompts=PROMPTS, completions=COMPLETIONS, **kwargs)  # type: ignore[no-any-return]

    return asyncio.run(run())


def test_reward_function_is_named_for_trl_and_scores_completions(
    completeness_service: tuple[str, Any],
) -> None:
    url, faults = completeness_service
    function, _ = build_reward_function(spec(url))
    assert function.__name__ == "completeness"
    scores = call(function)
    assert len(scores) == 2 and scores[1] == 0.0 and scores[0] is not None
    assert faults.requests == 1, "the whole batch goes in one request"


def test_503_twice_then_recovery_loses_nothing(completeness_service: tuple[str, Any]) -> None:
    url, faults = completeness_service
    expected = call(build_reward_function(spec(url))[0])
    faults.fail_next = 2
    function, _ = build_reward_function(spec(url))
    assert call(function) == expected
    assert faults.fail_next == 0


def test_a_dead_service_with_raise_stops_with_service_url_and_cause() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    function, _ = build_reward_function(spec(url, max_retries=0))
    with pytest.raises(
        RewardServiceFailed, match=r"completeness reward.*completeness service"
    ) as err:
        call(function)
    assert url in str(err.value) and "ConnectError" in str(err.value)


def test_a_dead_service_with_skip_gives_none_counts_and_stops_after_n_steps() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    function, _ = build_reward_function(
        spec(url, max_retries=0, on_failure="skip", max_failed_steps=3)
    )
    metrics: list[tuple[str, float]] = []
    log_metric = lambda name, value: metrics.append((name, value))  # noqa: E731
    assert call(function, log_metric=log_metric) == [None, None]
    assert call(function, log_metric=log_metric) == [None, None]
    assert metrics == [("rewards/completeness/failures", 1.0)] * 2
    with pytest.raises(RewardServiceFailed, match="3 steps in a row"):
        call(function, log_metric=log_metric)


def test_recorder_writes_every_reward_for_every_completion(
    completeness_service: tuple[str, Any], tmp_path: Path
) -> None:
    url, _ = completeness_service
    recorder = CompletionsRecorder(tmp_path / "completions.jsonl", ["completeness", "length"])
    function, _ = build_reward_function(spec(url), recorder)
    state = SimpleNamespace(global_step=7)
    scores = asyncio.run(function(prompts=PROMPTS, completions=COMPLETIONS, trainer_state=state))
    assert not (tmp_path / "completions.jsonl").exists(), "waits for every reward"
    recorder.record("length", PROMPTS, COMPLETIONS, [0.5, 0.1], None, {"trainer_state": state})
    lines = [json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [8, 8], "the step these rewards train"
    assert [line["rewards"]["completeness"] for line in lines] == scores
    assert [line["rewards"]["length"] for line in lines] == [0.5, 0.1]
    assert lines[0]["details"]["completeness"]["words"] > 20
    recorder.close()


def test_preflight_reports_ready_services_and_every_problem(
    completeness_service: tuple[str, Any],
) -> None:
    url, _ = completeness_service
    lines = asyncio.run(check_services([spec(url)]))
    assert "ready" in lines[0] and "rules:" in lines[0]
    dead = f"http://127.0.0.1:{free_port()}"
    wrong = RewardSpec(name="style", url=url, weight=0.6, profile="mark-twain")
    with pytest.raises(PreflightError) as err:
        asyncio.run(check_services([spec(dead), wrong]))
    assert dead in str(err.value) and "not ready" in str(err.value)
    assert "answers as the 'completeness' service" in str(err.value)
