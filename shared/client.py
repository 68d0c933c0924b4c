"""Async client for the reward services: batching, replicas, bounded retries, typed errors.

One `RewardClient` per service, on one URL or several (replicas of the same service): a batch is
split into chunks spread over the healthy replicas (see `shared.replicas`), a chunk whose replica
fails after its retries is sent to another, and the answers are merged in the original order. It
keeps one pooled `httpx.AsyncClient` per replica and running event loop, because TRL calls async
reward functions from its own background loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.http import (
    InvalidResponseError,
    RequestRejectedError,
    RetryingHTTP,
    RewardServiceError,
    ServiceUnavailableError,
)
from shared.replicas import ReplicaCounts, ReplicaPool, ReplicaSlots, replica_urls
from shared.schemas import InfoResponse, ScoreRequest, ScoreResponse

__all__ = [
    "InvalidResponseError",
    "RequestRejectedError",
    "RewardClient",
    "RewardServiceError",
    "ServiceUnavailableError",
]

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)


class RewardClient:
    """Async client for one reward service (`/score`, `/info`, `/ready`) on one or more replicas.

    `urls` is one URL, a comma-separated string of them, or a list. `max_concurrency` bounds the
    chunks in flight on each replica; a replica that fails a chunk after `max_retries` retries
    is skipped for `cooldown_s` seconds while another replica is healthy. A replica that answers
    busy (429, or 503 while loading, with `Retry-After`) is waited out for up to `busy_budget_s`
    per request (default: `read_timeout`, the reward's time budget) without spending a retry.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        api_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_batch: int = 64,
        max_concurrency: int = 4,
        cooldown_s: float = 30.0,
        busy_budget_s: float | None = None,
    ) -> None:
        if max_batch < 1 or max_concurrency < 1:
            raise ValueError(
                f"need max_batch >= 1 and max_concurrency >= 1; got {max_batch} and "
                f"{max_concurrency}"
            )
        self.max_batch = max_batch
        self.max_concurrency = max_concurrency
        replicas = [
            RetryingHTTP(
                url,
                headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_retries=max_retries,
                backoff_base=backoff_base,
                backoff_max=backoff_max,
                busy_budget_s=busy_budget_s,
            )
            for url in replica_urls(urls)
        ]
        self._replicas = {http.base_url: http for http in replicas}
        self.urls = list(self._replicas)
        self._pool = ReplicaPool(self.urls, cooldown_s=cooldown_s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections of the current event loop's HTTP clients."""
        for http in self._replicas.values():
            await http.aclose()

    def replica_counts(self) -> dict[str, ReplicaCounts]:
        """Chunks sent to each replica and how many failed, by URL, for logging."""
        return self._pool.counts()

    async def score(
        self,
        texts: list[str],
        *,
        prompts: list[str] | None = None,
        references: list[str] | None = None,
        profile: str | None = None,
        details: bool = False,
    ) -> ScoreResponse:
        """Score `texts` in chunks of at most `max_batch`, merged back in the original order."""
        request = ScoreRequest(
            texts=texts, prompts=prompts, references=references, profile=profile, details=details
        )
        chunks = [
            request.model_copy(update=_slice_parallel(request, start, start + self.max_batch))
            for start in range(0, len(request.texts), self.max_batch)
        ]
        await self._probe_recovering()
        slots = ReplicaSlots(self._pool, self.max_concurrency)
        tasks = [asyncio.ensure_future(self._place(chunk, slots)) for chunk in chunks]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:
            # One failed chunk fails the batch; the others need not keep the service busy.
            for task in tasks:
                task.cancel()
            raise
        merged_details = (
            None
            if any(answer.details is None for answer in answers)
            else [item for answer in answers for item in answer.details or []]
        )
        return ScoreResponse(
            scores=[score for answer in answers for score in answer.scores],
            service=answers[0].service,
            model=answers[0].model,
            details=merged_details,
        )

    async def info(self) -> InfoResponse:
        """Fetch `GET /info` from a replica that answers: what the service serves and its limits."""
        tried: list[str] = []
        failures: list[ServiceUnavailableError] = []
        while candidates := self._pool.candidates(exclude=tried):
            url = candidates[0]
            try:
                response = await self._replicas[url].request("GET", "/info")
            except ServiceUnavailableError as exc:
                tried.append(url)
                failures.append(exc)
                continue
            return _parse(response, InfoResponse)
        raise _every_replica_failed(failures)

    async def ready(self) -> bool:
        """Probe `GET /ready` on every replica once: True when each answers 200."""
        return all(await asyncio.gather(*(self._ready(url) for url in self.urls)))

    async def _ready(self, url: str) -> bool:
        """One replica's `GET /ready`: True on 200, False on any other answer or no answer."""
        http = self._replicas[url]
        try:
            # A probe should answer fast; waiting the full scoring read timeout defeats it.
            response = await http.client().get(
                f"{url}/ready", timeout=httpx.Timeout(http.timeout.connect)
            )
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def _probe_recovering(self) -> None:
        """Ask the replicas whose cool-down is over whether they are ready, before any work."""
        # A lone replica takes every chunk whatever its health, so there is nothing to decide.
        due = self._pool.due() if len(self.urls) > 1 else []
        answers = await asyncio.gather(*(self._ready(url) for url in due))
        for url, ready in zip(due, answers, strict=True):
            if not ready:
                self._pool.cool_down(url)
            elif self._pool.answered(url):
                log.info("replica %s is ready again after its cool-down", url)

    async def _place(self, chunk: ScoreRequest, slots: ReplicaSlots) -> ScoreResponse:
        """Score `chunk` on a replica, moving it to the next one while replicas fail."""
        tried: list[str] = []
        failures: list[ServiceUnavailableError] = []
        while (url := await slots.acquire(exclude=tried)) is not None:
            try:
                answer = await self._score_chunk(self._replicas[url], chunk)
            except ServiceUnavailableError as exc:
                tried.append(url)
                failures.append(exc)
                if self._pool.failed(url) and len(self.urls) > 1:
                    log.warning(
                        "replica %s failed, skipping it for %.0f s: %s",
                        url,
                        self._pool.cooldown_s,
                        exc,
                    )
                continue
            finally:
                slots.release(url)
            if self._pool.answered(url) and len(self.urls) > 1:
                log.info("replica %s answers again", url)
            return answer
        raise _every_replica_failed(failures)

    async def _score_chunk(self, http: RetryingHTTP, chunk: ScoreRequest) -> ScoreResponse:
        body = chunk.model_dump(exclude_none=True)
        response = await http.request("POST", "/score", body)
        answer = _parse(response, ScoreResponse)
        if len(answer.scores) != len(chunk.texts):
            raise InvalidResponseError(
                f"{response.request.url} returned {len(answer.scores)} scores for "
                f"{len(chunk.texts)} texts; the service must return one score per text",
                url=str(response.request.url),
                status=response.status_code,
            )
        return answer


def _every_replica_failed(failures: list[ServiceUnavailableError]) -> ServiceUnavailableError:
    """One replica's own error, or one error naming every replica and why each failed."""
    if len(failures) == 1:
        return failures[0]
    causes = "\n  ".join(str(failure) for failure in failures)
    return ServiceUnavailableError(
        f"all {len(failures)} replicas of the service failed:\n  {causes}",
        url=", ".join(failure.url for failure in failures),
        status=failures[-1].status,
        error_type=failures[-1].error_type,
    )


def _slice_parallel(request: ScoreRequest, start: int, stop: int) -> dict[str, list[str]]:
    """The texts of one chunk with their prompts and references, when given."""
    fields = {"texts": request.texts, "prompts": request.prompts, "references": request.references}
    return {name: values[start:stop] for name, values in fields.items() if values is not None}


def _parse(response: httpx.Response, model: type[ModelT]) -> ModelT:
    """Validate a 2xx body as `model`, or raise `InvalidResponseError` naming what was wrong."""
    url = str(response.request.url)
    try:
        return model.model_validate(json.loads(response.content))
    except json.JSONDecodeError as exc:
        cause = f"body is not JSON ({exc}): {response.text[:200]!r}"
    except ValidationError as exc:
        cause = f"body is not a valid {model.__name__}: {exc}"
    raise InvalidResponseError(
        f"{url} answered HTTP {response.status_code} but its {cause}",
        url=url,
        status=response.status_code,
    )
