"""Async reward functions that call the reward services over HTTP, one per service.

TRL runs async reward functions concurrently on its own event loop, so a step's reward time is
that of the slowest service, not the sum. Each function is named after its reward (`style`,
`content`, `completeness`), which is how TRL logs `rewards/<name>/mean`. A failing service
either stops training with an error naming the service, URL and cause (`raise`), or yields
`None` for its samples, which TRL leaves out of the advantage (`skip`), until too many steps in a
row have failed. A service with several replicas counts as failed only when every replica left
for a chunk has failed; each step logs the chunks each replica took and lost as
`rewards/<name>/replica<i>/requests` and `.../failures` (i: the replica's place in `url`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from shared.client import RewardClient, RewardServiceError
from shared.replicas import ReplicaCounts
from trainer.grpo.completions_log import CompletionsRecorder
from trainer.grpo.reward_config import RewardSpec
from trainer.grpo.step_profile import PhaseClock

log = logging.getLogger(__name__)

RewardFunction = Callable[..., Awaitable[list[float | None]]]


class RewardServiceFailed(RuntimeError):
    """A reward service failed and its policy says to stop training."""


@dataclass
class _Outage:
    """Consecutive failed calls of one reward, and whether this outage was reported."""

    failed_steps: int = 0
    warned: bool = False


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the content of a conversational reply."""
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content", "")) for message in completion)


def prompt_text(prompt: Any) -> str:
    """The text of a prompt: a string, or the last user message of a conversation."""
    if isinstance(prompt, str):
        return prompt
    users = [m for m in prompt if m.get("role") == "user"] or list(prompt)
    return str(users[-1].get("content", "")) if users else ""


def build_reward_function(
    spec: RewardSpec, recorder: CompletionsRecorder | None = None, clock: PhaseClock | None = None
) -> tuple[RewardFunction, RewardClient]:
    """The async reward function for `spec`, and the client it uses (close it after training).

    With a `clock`, each call is timed as `reward/NAME`, within the step's `rewards`.
    """
    client = RewardClient(
        spec.urls,
        api_key=spec.resolved_api_key(),
        read_timeout=spec.timeout_s,
        max_retries=spec.max_retries,
        cooldown_s=spec.replica_cooldown_s,
    )
    outage = _Outage()

    async def reward(
        prompts: list[Any], completions: list[Any], **kwargs: Any
    ) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        references = kwargs.get(spec.reference_column) if spec.reference_column else None
        before = client.replica_counts()
        timing = clock.measure(f"reward/{spec.name}", within="rewards") if clock else nullcontext()
        try:
            with timing:
                response = await client.score(
                    texts,
                    prompts=[prompt_text(p) for p in prompts],
                    references=list(references) if references is not None else None,
                    profile=spec.profile if references is None else None,
                    details=recorder is not None,
                )
        except RewardServiceError as exc:
            scores = _on_failure(spec, outage, exc, kwargs.get("log_metric"), len(texts))
            details: list[dict[str, Any]] | None = None
        else:
            if outage.failed_steps:
                log.warning("%s reward: %s is answering again", spec.name, ", ".join(spec.urls))
            outage.failed_steps, outage.warned = 0, False
            scores = list(response.scores)
            details = response.details
        finally:
            after = client.replica_counts()
            _log_replica_counts(spec.name, before, after, kwargs.get("log_metric"))
        if recorder is not None:
            recorder.record(spec.name, prompts, completions, scores, details, kwargs)
        return scores

    reward.__name__ = reward.__qualname__ = spec.name
    return reward, client


def _log_replica_counts(
    name: str,
    before: dict[str, ReplicaCounts],
    after: dict[str, ReplicaCounts],
    log_metric: Callable[[str, float], None] | None,
) -> None:
    """This step's chunks and failed chunks of each replica, when the service has several."""
    if log_metric is None or len(after) < 2:
        return
    for index, (url, now) in enumerate(after.items()):
        then = before[url]
        log_metric(f"rewards/{name}/replica{index}/requests", now.requests - then.requests)
        log_metric(f"rewards/{name}/replica{index}/failures", now.failures - then.failures)


def _on_failure(
    spec: RewardSpec,
    outage: _Outage,
    error: RewardServiceError,
    log_metric: Callable[[str, float], None] | None,
    count: int,
) -> list[float | None]:
    outage.failed_steps += 1
    where = ", ".join(spec.urls)
    message = f"{spec.name} reward: the {spec.service} service at {where} failed: {error}"
    if spec.on_failure == "raise":
        raise RewardServiceFailed(message) from error
    if log_metric is not None:
        log_metric(f"rewards/{spec.name}/failures", 1.0)
    if outage.failed_steps >= spec.max_failed_steps:
        raise RewardServiceFailed(
            f"{message}; {outage.failed_steps} steps in a row failed (max_failed_steps="
            f"{spec.max_failed_steps}), stopping"
        ) from error
    if not outage.warned:
        log.warning("%s; its samples get no %s reward until it recovers", message, spec.name)
        outage.warned = True
    return [None] * count
