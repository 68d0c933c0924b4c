"""The app as a whole over real HTTP: loading in the background, concurrency, the client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.client import RequestRejectedError, RewardClient


def poll_until_load_failed(http: httpx.Client, url: str, timeout_s: float = 5.0) -> httpx.Response:
    """Poll `/ready` until it reports the load failure (the load runs after start-up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = http.get(f"{url}/ready")
        if response.status_code == 503 and response.json()["error"]["type"] == "load_failed":
            return response
        time.sleep(0.005)
    raise TimeoutError(f"{url} did not report a load failure in {timeout_s}s")


def test_while_loading_score_and_ready_are_503_with_retry_after(
    http: httpx.Client, serve_fake: Any, make_scorer: Any, expect_error: Any
) -> None:
    url = serve_fake(make_scorer(loaded=False), ready=False)
    for response in (http.get(f"{url}/ready"), http.post(f"{url}/score", json={"texts": ["a"]})):
        assert "still loading" in expect_error(response, 503, "not_ready")
        assert response.headers["Retry-After"] == "5"


def test_while_loading_health_answers_200(
    http: httpx.Client, serve_fake: Any, make_scorer: Any
) -> None:
    url = serve_fake(make_scorer(loaded=False), ready=False)
    response = http.get(f"{url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_while_loading_info_says_not_ready(
    http: httpx.Client, serve_fake: Any, make_scorer: Any
) -> None:
    url = serve_fake(make_scorer(loaded=False), ready=False)
    info = http.get(f"{url}/info").json()
    assert info["ready"] is False and info["profiles"] == [] and info["scorer"] == {}
    assert info["default_profile"] == "plain" and info["limits"]["max_texts"] == 4


def test_service_becomes_ready_once_the_load_finishes(
    http: httpx.Client, serve_fake: Any, make_scorer: Any, wait_ready: Callable[[str], None]
) -> None:
    scorer = make_scorer(loaded=False)
    url = serve_fake(scorer, ready=False)
    assert http.get(f"{url}/ready").status_code == 503
    scorer.may_load.set()
    wait_ready(url)
    assert http.get(f"{url}/ready").json() == {"status": "ready"}
    assert http.post(f"{url}/score", json={"texts": ["abc"]}).json()["scores"] == [0.03]
    assert http.get(f"{url}/info").json()["ready"] is True


def test_load_failure_is_503_load_failed_with_the_cause(
    http: httpx.Client, serve_fake: Any, make_scorer: Any, expect_error: Any
) -> None:
    scorer = make_scorer(load_error=FileNotFoundError("no weights at /models/fake.bin"))
    url = serve_fake(scorer, ready=False)
    ready = poll_until_load_failed(http, url)
    message = expect_error(ready, 503, "load_failed")
    assert message == "the model failed to load: FileNotFoundError: no weights at /models/fake.bin"
    assert "Retry-After" not in ready.headers, "retrying cannot fix a failed load"
    score = http.post(f"{url}/score", json={"texts": ["a"]})
    assert expect_error(score, 503, "load_failed") == message
    assert http.get(f"{url}/health").status_code == 200
    assert http.get(f"{url}/info").json()["ready"] is False


@pytest.mark.asyncio
async def test_health_answers_fast_while_a_slow_score_is_in_flight(
    serve_fake: Any, make_scorer: Any
) -> None:
    scorer = make_scorer(score_delay_s=2.0)
    url = serve_fake(scorer)
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        scoring = asyncio.create_task(client.post("/score", json={"texts": ["abc"]}))
        while not scorer.scored:  # the request has reached the scorer
            await asyncio.sleep(0.005)
        started = time.perf_counter()
        health = await client.get("/health")
        ready = await client.get("/ready")
        elapsed = time.perf_counter() - started
        assert health.status_code == 200 and ready.status_code == 200
        assert elapsed < 1.0, f"/health and /ready took {elapsed:.2f}s behind a slow /score"
        assert not scoring.done()
        assert (await scoring).json()["scores"] == [0.03]


@pytest.mark.asyncio
async def test_client_raises_request_rejected_with_the_servers_message(fake_url: str) -> None:
    async with RewardClient(fake_url, max_retries=0) as client:
        with pytest.raises(RequestRejectedError, match="unknown profile 'nobody'") as rejected:
            await client.score(["a"], profile="nobody")
    assert rejected.value.status == 422 and rejected.value.error_type == "invalid_request"


@pytest.mark.asyncio
async def test_client_raises_request_rejected_naming_the_servers_limit(fake_url: str) -> None:
    async with RewardClient(fake_url, max_retries=0, max_batch=8) as client:
        with pytest.raises(RequestRejectedError, match="FAKE_MAX_TEXTS") as rejected:
            await client.score(["a"] * 5)
    assert rejected.value.status == 413 and rejected.value.error_type == "too_many_texts"


@pytest.mark.asyncio
async def test_client_batches_within_the_servers_limit_in_order(fake_url: str) -> None:
    texts = ["x" * n for n in range(10)]
    async with RewardClient(fake_url, max_batch=4) as client:
        answer = await client.score(texts, details=True)
    assert answer.scores == [n / 100 for n in range(10)]
    assert [d["chars"] for d in answer.details or []] == list(range(10))


@pytest.mark.asyncio
async def test_client_with_the_api_key_reads_info_and_readiness(serve_fake: Any) -> None:
    url = serve_fake(api_key="k3y")
    async with RewardClient(url, api_key="k3y") as client:
        assert await client.ready()
        info = await client.info()
    assert info.ready and info.limits.max_chars == 50
    async with RewardClient(url) as keyless:
        assert not await keyless.ready()
