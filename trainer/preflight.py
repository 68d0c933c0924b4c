"""Before step 1: every reward service is up, ready, and serves what the run expects."""

from __future__ import annotations

import asyncio

from shared.client import RewardClient, RewardServiceError
from trainer.reward_config import RewardSpec


class PreflightError(RuntimeError):
    """A reward service is down, not ready, or serves something other than the run expects."""


async def check_services(specs: list[RewardSpec]) -> list[str]:
    """One line per service saying what it serves; raises `PreflightError` listing every problem."""
    results = await asyncio.gather(*(_check(spec) for spec in specs))
    problems = [problem for _, problem in results if problem]
    if problems:
        raise PreflightError(
            "reward services are not ready for training:\n  " + "\n  ".join(problems)
        )
    return [line for line, _ in results]


async def _check(spec: RewardSpec) -> tuple[str, str | None]:
    where = f"{spec.name} reward ({spec.service} service at {spec.url})"
    async with RewardClient(spec.url, api_key=spec.api_key, max_retries=1) as client:
        if not await client.ready():
            return "", f"{where}: not ready (is it running? GET /ready did not answer 200)"
        try:
            info = await client.info()
        except RewardServiceError as exc:
            return "", f"{where}: GET /info failed: {exc}"
    if info.service != spec.service:
        return "", f"{where}: answers as the {info.service!r} service"
    if spec.profile and spec.profile not in info.profiles:
        return "", f"{where}: has no profile {spec.profile!r}; it serves {info.profiles}"
    rubric = str(info.scorer.get("rubric", ""))
    if spec.expect_rubric and rubric.split("@")[0] != spec.expect_rubric.split("@")[0]:
        return "", f"{where}: judges with rubric {rubric!r}, the run expects {spec.expect_rubric!r}"
    served = (
        f", profile {spec.profile}" if spec.profile else (f", rubric {rubric}" if rubric else "")
    )
    return f"{where}: ready, model {info.model}{served}, weight {spec.weight}", None
