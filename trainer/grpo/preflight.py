"""Before step 1: every reward service is up, ready, and serves what the run expects.

Each replica of a service is checked on its own. One that serves the wrong thing always stops
the run; one that is down stops it unless `min_ready_replicas` others are ready, in which case
training starts without it and the client sends it work once it answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from shared.client import (
    RequestRejectedError,
    RewardClient,
    RewardServiceError,
    ServiceUnavailableError,
)
from trainer.grpo.reward_config import RewardSpec


class PreflightError(RuntimeError):
    """A reward service is down, not ready, or serves something other than the run expects."""


@dataclass(frozen=True)
class _ReplicaCheck:
    """One replica's line (what it serves), or its problem and whether that is being down."""

    line: str
    problem: str | None = None
    down: bool = False


async def check_services(specs: list[RewardSpec]) -> list[str]:
    """One line per replica saying what it serves; raises `PreflightError` listing every problem."""
    results = await asyncio.gather(*(_check_reward(spec) for spec in specs))
    problems = [problem for _, found in results for problem in found]
    if problems:
        raise PreflightError(
            "reward services are not ready for training:\n  " + "\n  ".join(problems)
        )
    return [line for lines, _ in results for line in lines]


async def _check_reward(spec: RewardSpec) -> tuple[list[str], list[str]]:
    """The lines and problems of every replica of `spec`'s service."""
    try:
        api_key = spec.resolved_api_key()
    except ValueError as exc:
        return [], [str(exc)]
    checks = await asyncio.gather(*(_check(spec, url, api_key) for url in spec.urls))
    ready = sum(check.problem is None for check in checks)
    needed = spec.min_ready_replicas or len(checks)
    problems = [check.problem for check in checks if check.problem and not check.down]
    down = [check.problem for check in checks if check.problem and check.down]
    if ready < needed:
        if spec.min_ready_replicas is not None:
            down.append(
                f"{spec.name} reward: {ready} of {len(checks)} replicas ready, "
                f"min_ready_replicas is {needed}"
            )
        return [], problems + down
    lines = [check.line for check in checks if check.problem is None]
    lines += [
        f"{problem}; starting with {ready} of {len(checks)} replicas ready (min_ready_replicas "
        f"{needed}), it gets work once it answers"
        for problem in down
    ]
    return lines, problems


async def _check(spec: RewardSpec, url: str, api_key: str | None) -> _ReplicaCheck:
    where = f"{spec.name} reward ({spec.service} service at {url})"
    async with RewardClient(url, api_key=api_key, max_retries=1) as client:
        if not await client.ready():
            try:
                await client.info()  # tells a refused API key apart from a service not up
            except RequestRejectedError as exc:
                return _ReplicaCheck("", f"{where}: {exc}", down=False)
            except RewardServiceError:
                pass
            problem = f"{where}: not ready (is it running? GET /ready did not answer 200)"
            return _ReplicaCheck("", problem, down=True)
        try:
            info = await client.info()
        except RewardServiceError as exc:
            down = isinstance(exc, ServiceUnavailableError)
            return _ReplicaCheck("", f"{where}: GET /info failed: {exc}", down=down)
    if info.service != spec.service:
        return _ReplicaCheck("", f"{where}: answers as the {info.service!r} service")
    if spec.profile and spec.profile not in info.profiles:
        problem = f"{where}: has no profile {spec.profile!r}; it serves {info.profiles}"
        return _ReplicaCheck("", problem)
    rubric = str(info.scorer.get("rubric", ""))
    if spec.expect_rubric and rubric.split("@")[0] != spec.expect_rubric.split("@")[0]:
        problem = f"{where}: judges with rubric {rubric!r}, the run expects {spec.expect_rubric!r}"
        return _ReplicaCheck("", problem)
    served = (
        f", profile {spec.profile}" if spec.profile else (f", rubric {rubric}" if rubric else "")
    )
    return _ReplicaCheck(f"{where}: ready, model {info.model}{served}, weight {spec.weight}")
