"""Bounded in-flight texts over real HTTP: 429 `busy` with Retry-After past the bound only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from shared.client import RewardClient

DELAY_S = 0.5  # long enough that every concurrent request arrives while the first are scored


async def post_all(url: str, batches: list[list[str]]) -> list[httpx.Response]:
    """POST every batch to `/score` at once, without retries."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await asyncio.gather(
            *(client.post(f"{url}/score", json={"texts": texts}) for texts in batches)
        )


def metric(http: httpx.Client, url: str, name: str) -> float:
    """The value of one unlabelled sample in `/metrics`."""
    for line in http.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_past_the_bound_score_answers_429_busy_with_retry_after(
    http: httpx.Client, serve_fake: Any, make_scorer: Any, expect_error: Any
) -> None:
    url = serve_fake(
        make_scorer(score_delay_s=DELAY_S), max_in_flight_texts=2, busy_retry_after_s=3
    )
    responses = asyncio.run(post_all(url, [["a"]] * 4))
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429]
    for response in responses:
        if response.status_code == 429:
            message = expect_error(response, 429, "busy")
            assert "FAKE_MAX_IN_FLIGHT_TEXTS" in message
            assert response.headers["Retry-After"] == "3"
    assert metric(http, url, "stylegrpo_busy_rejections_total") == 2
    assert 'stylegrpo_errors_total{status="429"} 2.0' in http.get(f"{url}/metrics").text
    assert metric(http, url, "stylegrpo_in_flight_texts") == 0


def test_under_the_bound_nothing_is_refused(serve_fake: Any, make_scorer: Any) -> None:
    url = serve_fake(make_scorer(score_delay_s=DELAY_S), max_in_flight_texts=4)
    responses = asyncio.run(post_all(url, [["a", "b"], ["c"], ["d"]]))
    assert [r.status_code for r in responses] == [200, 200, 200]


def test_texts_are_counted_not_requests(serve_fake: Any, make_scorer: Any) -> None:
    url = serve_fake(make_scorer(score_delay_s=DELAY_S), max_in_flight_texts=3)
    responses = asyncio.run(post_all(url, [["a", "b"], ["c", "d"]]))
    assert sorted(r.status_code for r in responses) == [200, 429]


def test_a_batch_larger_than_the_bound_is_served_when_idle(
    http: httpx.Client, serve_fake: Any
) -> None:
    url = serve_fake(max_in_flight_texts=1)
    response = http.post(f"{url}/score", json={"texts": ["a", "bb", "ccc"]})
    assert response.status_code == 200, response.text
    assert response.json()["scores"] == [0.01, 0.02, 0.03]


def test_the_client_retries_busy_answers_and_loses_no_request(
    http: httpx.Client, serve_fake: Any, make_scorer: Any
) -> None:
    url = serve_fake(make_scorer(score_delay_s=0.3), max_in_flight_texts=2, busy_retry_after_s=1)
    texts = ["x" * n for n in range(1, 9)]

    async def score_each() -> list[list[float]]:
        async with RewardClient(url, max_retries=5) as client:
            answers = await asyncio.gather(*(client.score([text]) for text in texts))
        return [answer.scores for answer in answers]

    assert asyncio.run(score_each()) == [[len(text) / 100] for text in texts]
    assert metric(http, url, "stylegrpo_busy_rejections_total") > 0
    assert 'stylegrpo_requests_total{route="/score",status="200"} 8.0' in (
        http.get(f"{url}/metrics").text
    )
