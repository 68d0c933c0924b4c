"""A reward served by several replicas: preflight of each, and the reward function across them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from shared.child_processes import free_port
from trainer.grpo.preflight import PreflightError, check_services
from trainer.grpo.reward_config import RewardSpec
from trainer.grpo.rewards import build_reward_function

Serve = Callable[[], tuple[str, Any]]
STORY = " ".join(f"w{i}" for i in range(30)) + ".\nTHE END."


def spec(urls: list[str], **fields: Any) -> RewardSpec:
    return RewardSpec(
        **{"name": "completeness", "url": urls, "weight": 0.1, "max_retries": 0, **fields}
    )


def test_preflight_names_a_replica_that_is_down(serve_completeness: Serve) -> None:
    (live, _), dead = serve_completeness(), f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PreflightError) as err:
        asyncio.run(check_services([spec([live, dead])]))
    assert f"completeness service at {dead}): not ready" in str(err.value)
    assert live not in str(err.value)

    with pytest.raises(PreflightError, match="0 of 2 replicas ready, min_ready_replicas is 1"):
        asyncio.run(
            check_services([spec([dead, f"http://127.0.0.1:{free_port()}"], min_ready_replicas=1)])
        )


def test_preflight_starts_with_enough_replicas_and_says_which_is_missing(
    serve_completeness: Serve,
) -> None:
    (live, _), dead = serve_completeness(), f"http://127.0.0.1:{free_port()}"
    lines = asyncio.run(check_services([spec([live, dead], min_ready_replicas=1)]))
    assert len(lines) == 2
    assert lines[0].startswith(f"completeness reward (completeness service at {live}): ready")
    assert dead in lines[1] and "starting with 1 of 2 replicas ready" in lines[1]


def test_reward_function_spreads_over_replicas_and_logs_each(serve_completeness: Serve) -> None:
    (a, a_faults), (b, b_faults) = serve_completeness(), serve_completeness()
    function, client = build_reward_function(spec([a, b]))
    client.max_batch = 1
    metrics: dict[str, list[float]] = {}

    async def run() -> list[float | None]:
        return await function(  # type: ignore[no-any-return]
            prompts=["Write a story."] * 4,
            completions=[STORY] * 4,
            log_metric=lambda name, value: metrics.setdefault(name, []).append(value),
        )

    assert asyncio.run(run()) == [pytest.approx(30 / 1200)] * 4
    assert (a_faults.requests, b_faults.requests) == (2, 2)
    assert metrics == {
        "rewards/completeness/replica0/requests": [2],
        "rewards/completeness/replica0/failures": [0],
        "rewards/completeness/replica1/requests": [2],
        "rewards/completeness/replica1/failures": [0],
    }
    a_faults.fail_after = a_faults.requests
    assert asyncio.run(run()) == [pytest.approx(30 / 1200)] * 4, "b took a's chunks"
    assert metrics["rewards/completeness/replica0/failures"][-1] >= 1
    assert metrics["rewards/completeness/replica1/requests"][-1] >= 3
