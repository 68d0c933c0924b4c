"""Async client for the reward services: batching, bounded retries with backoff, typed errors.

One `RewardClient` per service. It keeps one pooled `httpx.AsyncClient` per running event
loop, because TRL calls async reward functions from its own background loop.
"""

from __future__ import annotations

import asyncio
import json
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
from shared.schemas import InfoResponse, ScoreRequest, ScoreResponse

__all__ = [
    "InvalidResponseError",
    "RequestRejectedError",
    "RewardClient",
    "RewardServiceError",
    "ServiceUnavailableError",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


class RewardClient:
    """Async client for one reward service (`/score`, `/info`, `/ready`)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_batch: int = 64,
        max_concurrency: int = 4,
    ) -> None:
        if max_batch < 1 or max_concurrency < 1:
            raise ValueError(
                f"need max_batch >= 1 and max_concurrency >= 1; got {max_batch} and "
                f"{max_concurrency}"
            )
        self.max_batch = max_batch
        self.max_concurrency = max_concurrency
        self._http = RetryingHTTP(
            base_url,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.base_url = self._http.base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections of the current event loop's HTTP client."""
        await self._http.aclose()

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
        gate = asyncio.Semaphore(self.max_concurrency)

        async def send(chunk: ScoreRequest) -> ScoreResponse:
            async with gate:
                return await self._score_chunk(chunk)

        tasks = [asyncio.ensure_future(send(chunk)) for chunk in chunks]
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
        """Fetch `GET /info`: what the service serves and its limits."""
        response = await self._http.request("GET", "/info")
        return _parse(response, InfoResponse)

    async def ready(self) -> bool:
        """Probe `GET /ready` once: True on 200, False on any other answer or no answer."""
        http = self._http.client()
        try:
            # A probe should answer fast; waiting the full scoring read timeout defeats it.
            response = await http.get(
                f"{self.base_url}/ready", timeout=httpx.Timeout(self._http.timeout.connect)
            )
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def _score_chunk(self, chunk: ScoreRequest) -> ScoreResponse:
        body = chunk.model_dump(exclude_none=True)
        response = await self._http.request("POST", "/score", body)
        answer = _parse(response, ScoreResponse)
        if len(answer.scores) != len(chunk.texts):
            raise InvalidResponseError(
                f"{response.request.url} returned {len(answer.scores)} scores for "
                f"{len(chunk.texts)} texts; the service must return one score per text",
                url=str(response.request.url),
                status=response.status_code,
            )
        return answer


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
