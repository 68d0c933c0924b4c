"""HTTP with bounded, jittered retries and typed errors, shared by every client of a service.

A service that says it is busy (429, or 503 while its model loads, each with `Retry-After`) is
waited out for as long as the caller's budget allows, without spending a retry: backpressure is
not a failure. Everything else retryable (transport errors, 408, other 5xx) gets `max_retries`
retries. It keeps one pooled `httpx.AsyncClient` per running event loop, because TRL calls async
reward functions from its own background loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import ValidationError

from shared.schemas import ErrorResponse

RETRYABLE_STATUSES = frozenset({408, 429})
# Statuses that mean "busy, come back later" when they carry a Retry-After.
BUSY_STATUSES = frozenset({429, 503})


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


class RetryingHTTP:
    """Requests to one base URL: retried on transport errors, 408, 429 and 5xx, honouring
    `Retry-After`, with full-jitter exponential backoff; other 4xx raise at once."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str],
        connect_timeout: float,
        read_timeout: float,
        max_retries: int,
        backoff_base: float,
        backoff_max: float,
        busy_budget_s: float | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"need max_retries >= 0, got {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        # How long a busy service is waited out, per request: the read timeout unless told.
        self.busy_budget_s = read_timeout if busy_budget_s is None else busy_budget_s
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._headers = headers
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    async def aclose(self) -> None:
        """Close the pooled connections of the current event loop's HTTP client."""
        http, loop = self._http, self._http_loop
        self._http = self._http_loop = None
        # A client opened on another loop cannot be closed from this one; dropping it is all
        # that is left, and its sockets go when that loop does.
        if http is not None and loop is asyncio.get_running_loop():
            await http.aclose()

    def client(self) -> httpx.AsyncClient:
        """The pooled client of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = httpx.AsyncClient(timeout=self.timeout, headers=self._headers)
            self._http_loop = loop
        return self._http

    async def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """`method path` with `body` as JSON; the response if < 400, else a typed error."""
        url = f"{self.base_url}{path}"
        busy_until = time.monotonic() + self.busy_budget_s
        failures = attempts = 0
        while True:
            attempts += 1
            status: int | None = None
            error_type: str | None = None
            busy = False
            try:
                response = await self.client().request(method, url, json=body)
            except httpx.TransportError as exc:
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff(failures)
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
                delay = self._backoff(failures) if retry_after is None else retry_after
                busy = status in BUSY_STATUSES and retry_after is not None
            if busy and time.monotonic() + delay <= busy_until:
                await asyncio.sleep(delay)
                continue
            failures += 1
            if failures > self.max_retries:
                break
            await asyncio.sleep(delay)
        waited = " (busy, waited out for its budget first)" if busy else ""
        raise ServiceUnavailableError(
            f"{url} failed after {attempts} attempts{waited}; last cause: {cause}. "
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


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    """The service's error type and message, or the start of the raw body if off-contract."""
    try:
        error = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        return None, response.text[:200] or response.reason_phrase
    return error.type, error.message
