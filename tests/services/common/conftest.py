"""A deterministic fake scorer, a fake service's settings, and ways to serve them over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx
import pytest
from pydantic_settings import SettingsConfigDict

from services.common.app import create_app
from services.common.scorer import InvalidInputError, ScoredBatch
from shared.schemas import ScoreRequest
from shared.settings import ServiceSettings

# Long enough for any test, short enough that a forgotten event cannot hang the run.
LOAD_WAIT_S = 30.0
READY_TIMEOUT_S = 5.0


# Small limits, so tests cross them cheaply; 1024 is the least `max_body_bytes` allowed.
FAKE_LIMITS = {"max_texts": 4, "max_chars": 50, "max_body_bytes": 1024}


class FakeSettings(ServiceSettings):
    """Settings of the fake service: its own prefix, so messages name `FAKE_...` variables."""

    model_config = SettingsConfigDict(env_prefix="FAKE_")


def fake_score(text: str) -> float:
    """The fake's score of a text: its length modulo 100, as a fraction.

    >>> fake_score("abc"), fake_score("x" * 150)
    (0.03, 0.5)
    """
    return len(text) % 100 / 100


class FakeScorer:
    """A `Scorer` whose loading, load failure and scoring time each test controls."""

    service = "fake"
    model = "fake-model-1"
    default_profile = "plain"

    def __init__(
        self,
        *,
        loaded: bool = True,
        load_error: Exception | None = None,
        score_delay_s: float = 0.0,
    ) -> None:
        self.profiles = ["plain", "fancy"]
        self.may_load = threading.Event()
        if loaded:
            self.may_load.set()
        self.load_error = load_error
        self.score_delay_s = score_delay_s
        self.scored: list[ScoreRequest] = []

    def load(self) -> None:
        """Block until `may_load` is set, then fail with `load_error` if one is given."""
        if not self.may_load.wait(LOAD_WAIT_S):
            raise TimeoutError(f"the test never set may_load within {LOAD_WAIT_S}s")
        if self.load_error is not None:
            raise self.load_error

    def counters(self) -> dict[str, float]:
        """No running totals beyond the HTTP layer's."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What `/info` reports under `scorer`."""
        return {"rule": "len(text) % 100 / 100"}

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """`fake_score` of each text, after `score_delay_s` spent off the event loop."""
        profile = request.profile or self.default_profile
        if profile not in self.profiles:
            raise InvalidInputError(f"unknown profile {profile!r}; known: {self.profiles}")
        self.scored.append(request)
        if self.score_delay_s:
            await asyncio.to_thread(time.sleep, self.score_delay_s)
        details = [{"chars": len(t), "profile": profile} for t in request.texts]
        return ScoredBatch(
            scores=[fake_score(t) for t in request.texts],
            details=details if request.details else None,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


class ServeFake(Protocol):
    def __call__(
        self, scorer: FakeScorer | None = None, *, ready: bool = True, **settings: Any
    ) -> str: ...


def poll_until_ready(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> None:
    """Poll `/ready` until 200 (the load runs in a background task after start-up)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if http.get(f"{url}/ready", headers=headers).status_code == 200:
            return
        time.sleep(0.005)
    raise TimeoutError(f"{url} not ready in {READY_TIMEOUT_S}s")


@contextmanager
def fake_servers(run: Callable[[Any], str], http: httpx.Client) -> Iterator[ServeFake]:
    """A `serve(scorer, ready=..., **settings) -> url` that serves fakes with `run`."""
    scorers: list[FakeScorer] = []

    def serve(scorer: FakeScorer | None = None, *, ready: bool = True, **settings: Any) -> str:
        scorer = scorer or FakeScorer()
        scorers.append(scorer)
        url = run(create_app(settings=FakeSettings(**{**FAKE_LIMITS, **settings}), scorer=scorer))
        if ready:
            key = settings.get("api_key")
            poll_until_ready(http, url, {"Authorization": f"Bearer {key}"} if key else None)
        return url

    try:
        yield serve
    finally:
        # Runs before `run` stops the servers: a load still blocked would hold up shutdown.
        for scorer in scorers:
            scorer.may_load.set()


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the session: a new client costs ~20 ms of TLS set-up."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def serve_fake(run_asgi: Callable[[Any], str], http: httpx.Client) -> Iterator[ServeFake]:
    """`url = serve_fake(scorer, ready=..., **settings)`: a fake service of this test alone."""
    with fake_servers(run_asgi, http) as serve:
        yield serve


@pytest.fixture(scope="session")
def serve_shared_fake(
    run_asgi_session: Callable[[Any], str], http: httpx.Client
) -> Iterator[ServeFake]:
    """Like `serve_fake`, for services that tests share: only for tests that read no counts."""
    with fake_servers(run_asgi_session, http) as serve:
        yield serve


@pytest.fixture(scope="session")
def fake_url(serve_shared_fake: ServeFake) -> str:
    """A ready fake service shared by the session (its metrics count every test's requests)."""
    return serve_shared_fake()


@pytest.fixture
def make_scorer() -> type[FakeScorer]:
    """The fake scorer class, for tests that set its loading, load failure or delay."""
    return FakeScorer


@pytest.fixture
def wait_ready(http: httpx.Client) -> Callable[[str], None]:
    """`wait_ready(url)`: poll `/ready` until 200, for services started with `ready=False`."""
    return lambda url: poll_until_ready(http, url)


def error_message(response: httpx.Response, status: int, error_type: str) -> str:
    """Assert `response` is the one error shape with `status` and `error_type`; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    assert body["error"]["type"] == error_type, body
    message: str = body["error"]["message"]
    return message


@pytest.fixture
def expect_error() -> Callable[[httpx.Response, int, str], str]:
    """`message = expect_error(response, status, type)`, after checking the one error shape."""
    return error_message
