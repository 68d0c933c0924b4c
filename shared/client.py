"""Async client for the reward services: batching, bounded retries with backoff, typed errors.

One `RewardClient` per service. It keeps one pooled `httpx.AsyncClient` per running event
loop, because TRL calls async reward functions from its own background loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.schemas import ErrorResponse, InfoResponse, ScoreRequest, ScoreResponse

RETRYABLE_STATUSES = frozenset({408, 429})

ModelT = TypeVar("ModelT", bound=BaseModel)


class RewardServiceError(Exception):
    """A reward service call failed; `url`, `status` and `error_type` say where and how."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, error_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.error_type = error_type


class ServiceUnavailableError(RewardServiceError):
    """The service could not be reached or kept failing after every retry."""


class RequestRejectedError(RewardServiceError):
    """The service refused the request as the caller's fault (a non-retryable 4xx)."""


class InvalidResponseError(RewardServiceError):
    """The service answered 2xx with a body that does not fit the contract."""


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
        if max_retries < 0 or max_batch < 1 or max_concurrency < 1:
            raise ValueError(
                f"need max_retries >= 0, max_batch >= 1 and max_concurrency >= 1; got "
                f"{max_retries}, {max_batch} and {max_concurrency}"
            )
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_batch = max_batch
        self.max_concurrency = max_concurrency
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections of the current event loop's HTTP client."""
        http, loop = self._http, self._http_loop
        self._http = self._http_loop = None
        # A client opened on another loop cannot be closed from this one; dropping it is all
        # that is left, and its sockets go when that loop does.
        if http is not None and loop is asyncio.get_running_loop():
            await http.aclose()

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
        response = await self._request("GET", "/info")
        return _parse(response, InfoResponse)

    async def ready(self) -> bool:
        """Probe `GET /ready` once: True on 200, False on any other answer or no answer."""
        http = self._client()
        try:
            # A probe should answer fast; waiting the full scoring read timeout defeats it.
            response = await http.get(
                f"{self.base_url}/ready", timeout=httpx.Timeout(self._timeout.connect)
            )
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def _score_chunk(self, chunk: ScoreRequest) -> ScoreResponse:
        response = await self._request("POST", "/score", chunk.model_dump(exclude_none=True))
        answer = _parse(response, ScoreResponse)
        if len(answer.scores) != len(chunk.texts):
            raise InvalidResponseError(
                f"{response.request.url} returned {len(answer.scores)} scores for "
                f"{len(chunk.texts)} texts; the service must return one score per text",
                url=str(response.request.url),
                status=response.status_code,
            )
        return answer

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = httpx.AsyncClient(timeout=self._timeout, headers=self._headers)
            self._http_loop = loop
        return self._http

    async def _request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        url = f"{self.base_url}{path}"
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            status: int | None = None
            error_type: str | None = None
            try:
                response = await self._client().request(method, url, json=body)
            except httpx.TransportError as exc:
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if status < 400:
                    return response
                error_type, message = _error_of(response)
                if status not in RETRYABLE_STATUSES and status < 500:
                    raise RequestRejectedError(
                        f"{url} rejected the request with HTTP {status}: {message}",
                        url=url,
                        status=status,
                        error_type=error_type,
                    )
                cause = f"HTTP {status}: {message}"
                retry_after = self._retry_after(response)
                delay = self._backoff(attempt) if retry_after is None else retry_after
            if attempt + 1 < attempts:
                await asyncio.sleep(delay)
        raise ServiceUnavailableError(
            f"{url} failed after {attempts} attempts; last cause: {cause}. "
            "Check that the service is running and healthy.",
            url=url,
            status=status,
            error_type=error_type,
        )

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many trainer processes from retrying in lockstep.
        return random.uniform(0.0, min(self.backoff_max, self.backoff_base * 2**attempt))

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return min(self.backoff_max, max(0.0, seconds))


def _slice_parallel(request: ScoreRequest, start: int, stop: int) -> dict[str, list[str]]:
    """The texts of one chunk with their prompts and references, when given."""
    fields = {"texts": request.texts, "prompts": request.prompts, "references": request.references}
    return {name: values[start:stop] for name, values in fields.items() if values is not None}


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    """The service's error type and message, or the start of the raw body if off-contract."""
    try:
        error = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        return None, response.text[:200] or response.reason_phrase
    return error.type, error.message


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
