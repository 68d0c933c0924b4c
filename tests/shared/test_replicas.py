"""Replicas of one service: the pool's choices, and RewardClient over real services on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from shared.child_processes import free_port
from shared.client import RewardClient, ServiceUnavailableError
from shared.replicas import ReplicaPool, ReplicaSlots, replica_urls

Serve = Callable[[], tuple[str, Any]]
COOLDOWN_S = 0.3


def story(words: int) -> str:
    """A finished story of `words` words: the completeness service scores it `words / 1200`."""
    return " ".join(f"w{i}" for i in range(words)) + ".\nTHE END."


STORIES = [story(k) for k in range(1, 21)]


def replicated(urls: list[str], **options: Any) -> RewardClient:
    """A client over `urls` with chunks of 2, millisecond backoff and a short cool-down."""
    settings = {"max_batch": 2, "max_retries": 1, "backoff_base": 0.001, "backoff_max": 0.01}
    return RewardClient(urls, **{**settings, "cooldown_s": COOLDOWN_S, **options})


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "at least one URL"),
        (["http://a:1", 8002], "a list of URLs"),
        ("http://a:1,a:2", "must start with http"),
        ("http://a:1, http://a:1/", "more than once"),
    ],
)
def test_replica_urls_refuse_what_cannot_be_a_replica(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replica_urls(value)


def test_a_failed_replica_sits_out_its_cool_down_then_is_due_for_a_probe() -> None:
    clock = Clock()
    pool = ReplicaPool(["http://a", "http://b"], cooldown_s=30, clock=clock)
    assert pool.failed("http://a") is True
    assert pool.candidates() == ["http://b"]
    assert pool.due() == []
    clock.now = 31
    assert pool.candidates() == ["http://a", "http://b"]
    assert pool.due() == ["http://a"]
    assert pool.answered("http://a") is True and pool.due() == []
    assert pool.counts()["http://a"].failures == 1


def test_when_every_replica_cools_down_they_are_tried_soonest_back_first() -> None:
    clock = Clock()
    pool = ReplicaPool(["http://a", "http://b"], cooldown_s=30, clock=clock)
    pool.failed("http://b")
    clock.now = 1
    pool.failed("http://a")
    assert pool.candidates() == ["http://b", "http://a"]
    assert pool.candidates(exclude=["http://b"]) == ["http://a"]
    assert pool.candidates(exclude=["http://a", "http://b"]) == []


@pytest.mark.asyncio
async def test_slots_go_to_the_least_busy_replica_and_wait_when_all_are_full() -> None:
    pool = ReplicaPool(["http://a", "http://b"], cooldown_s=30)
    slots = ReplicaSlots(pool, per_replica=2)
    assert [await slots.acquire() for _ in range(4)] == ["http://a", "http://b"] * 2
    waiting = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0.01)
    assert not waiting.done(), "both replicas hold their 2 chunks"
    slots.release("http://b")
    assert await asyncio.wait_for(waiting, 1) == "http://b"
    assert [pool.requests(url) for url in pool.urls] == [2, 3]


@pytest.mark.asyncio
async def test_two_replicas_share_a_batch_and_answer_as_one_would(
    serve_completeness: Serve,
) -> None:
    (one, _), (a, a_faults), (b, b_faults) = (
        serve_completeness(),
        serve_completeness(),
        serve_completeness(),
    )
    async with replicated([one]) as single:
        expected = await single.score(STORIES, details=True)
    async with replicated(f"{a}, {b}", max_concurrency=2) as client:
        result = await client.score(STORIES, details=True)
        counts = client.replica_counts()

    assert result == expected
    assert result.scores == pytest.approx([k / 1200 for k in range(1, 21)])
    assert a_faults.requests > 0 and b_faults.requests > 0
    assert a_faults.requests + b_faults.requests == 10, "20 texts in chunks of 2"
    assert [c.requests for c in counts.values()] == [a_faults.requests, b_faults.requests]
    assert max(a_faults.most_in_flight, b_faults.most_in_flight) <= 2


@pytest.mark.asyncio
async def test_a_replica_that_is_down_leaves_everything_to_the_other(
    serve_completeness: Serve,
) -> None:
    dead, (live, faults) = dead_url(), serve_completeness()
    async with replicated([dead, live]) as client:
        first = await client.score(STORIES)
        after_first = client.replica_counts()[dead]
        second = await client.score(STORIES)
        after_second = client.replica_counts()[dead]

    assert first.scores == second.scores == pytest.approx([k / 1200 for k in range(1, 21)])
    assert faults.requests == 20, "every chunk of both calls"
    assert after_first.failures == after_first.requests >= 1
    assert after_second == after_first, "skipped for the cool-down once it failed"


@pytest.mark.asyncio
async def test_a_replica_that_fails_mid_run_is_skipped_then_used_after_its_cool_down(
    serve_completeness: Serve,
) -> None:
    (a, a_faults), (b, _) = serve_completeness(), serve_completeness()
    expected = pytest.approx([k / 1200 for k in range(1, 21)])
    async with replicated([a, b]) as client:
        assert (await client.score(STORIES)).scores == expected
        a_faults.fail_after = a_faults.requests  # an outage: every `/score` from now on is 503
        assert (await client.score(STORIES)).scores == expected, "its chunks went to b"
        assert client.replica_counts()[a].failures >= 1
        seen = a_faults.requests
        assert (await client.score(STORIES)).scores == expected
        assert a_faults.requests == seen, "skipped while it cools down"

        a_faults.ready = False
        await asyncio.sleep(COOLDOWN_S + 0.05)
        assert (await client.score(STORIES)).scores == expected
        assert a_faults.requests == seen, "its /ready probe said no, so it got no chunk"

        a_faults.ready, a_faults.fail_after = True, None
        await asyncio.sleep(COOLDOWN_S + 0.05)
        assert (await client.score(STORIES)).scores == expected
        assert a_faults.requests > seen, "back in use after the cool-down"


@pytest.mark.asyncio
async def test_every_replica_down_raises_one_error_naming_each(serve_completeness: Serve) -> None:
    dead, (failing, faults) = dead_url(), serve_completeness()
    faults.fail_after = 0
    async with replicated([dead, failing], max_batch=64) as client:
        with pytest.raises(ServiceUnavailableError, match="all 2 replicas") as caught:
            await client.score(STORIES)

    message = str(caught.value)
    assert f"{dead}/score" in message and f"{failing}/score" in message
    assert "ConnectError" in message and "HTTP 503" in message
    assert caught.value.url == f"{dead}/score, {failing}/score"
