"""Completeness services over real HTTP, and stories of exact word counts to score with them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx
import pytest

from services.common.app import create_app
from services.completeness.service import build_completeness_service

READY_TIMEOUT_S = 5.0
SENTENCE_WORDS = 10


class ServeCompleteness(Protocol):
    def __call__(self, **settings: Any) -> str: ...


class Score(Protocol):
    def __call__(self, url: str, texts: list[str], **fields: Any) -> httpx.Response: ...


class DetailsOf(Protocol):
    def __call__(self, url: str, text: str) -> dict[str, Any]: ...


def distinct_word(index: int) -> str:
    """A word of letters only, different for every `index` (`wa`, `wb`, ..., `wba`, ...)."""
    letters = ""
    while True:
        index, digit = divmod(index, 26)
        letters = chr(ord("a") + digit) + letters
        if index == 0:
            return "w" + letters


def make_story(
    count: int, *, last_stop: str = ".", marker: str | None = "THE END.", first: int = 0
) -> str:
    """`count` different words in sentences ending in `last_stop`, then a `marker` line."""
    vocabulary = [distinct_word(i) for i in range(first, first + count)]
    sentences = [
        " ".join(vocabulary[i : i + SENTENCE_WORDS]) for i in range(0, count, SENTENCE_WORDS)
    ]
    body = ". ".join(sentences) + last_stop
    return body if marker is None else f"{body}\n{marker}\n"


def wait_ready(http: httpx.Client, url: str) -> None:
    """Poll `/ready` until 200 (the scorer loads in a background task after start-up)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while http.get(f"{url}/ready").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready in {READY_TIMEOUT_S}s")
        time.sleep(0.005)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the session."""
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def serve_completeness(
    run_asgi_session: Callable[[Any], str], http: httpx.Client
) -> ServeCompleteness:
    """`url = serve_completeness(**settings)`: a ready service, one per distinct settings."""
    urls: dict[tuple[tuple[str, Any], ...], str] = {}

    def serve(**settings: Any) -> str:
        key = tuple(sorted(settings.items()))
        if key not in urls:
            config, scorer = build_completeness_service(**settings)
            urls[key] = run_asgi_session(create_app(settings=config, scorer=scorer))
            wait_ready(http, urls[key])
        return urls[key]

    return serve


@pytest.fixture(scope="session")
def band_url(serve_completeness: ServeCompleteness) -> str:
    """The service with its default settings: the band formula."""
    return serve_completeness()


@pytest.fixture(scope="session")
def v1_url(serve_completeness: ServeCompleteness) -> str:
    """The service with the original's first formula."""
    return serve_completeness(formula="v1")


@pytest.fixture
def story() -> Callable[..., str]:
    """`make_story(count, last_stop=".", marker="THE END.", first=0)`."""
    return make_story


@pytest.fixture
def score(http: httpx.Client) -> Score:
    """`response = score(url, texts, **fields)`: one `POST /score`."""

    def post(url: str, texts: list[str], **fields: Any) -> httpx.Response:
        return http.post(f"{url}/score", json={"texts": texts, **fields})

    return post


@pytest.fixture
def details_of(score: Score) -> DetailsOf:
    """`details = details_of(url, text)`: one text scored with details, its score checked."""

    def scored(url: str, text: str) -> dict[str, Any]:
        response = score(url, [text], details=True)
        assert response.status_code == 200, response.text
        body = response.json()
        details: dict[str, Any] = body["details"][0]
        assert body["scores"] == [details["score"]]
        return details

    return scored
