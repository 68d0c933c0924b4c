"""The encode batcher coalesces concurrent requests and returns each caller its own rows."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from services.style.encoding.batcher import EncodeBatcher


class RecordingEncoder:
    """Embeds a text as [len(text), index in batch]; records each batch and its thread."""

    def __init__(self, seconds_per_batch: float = 0.05) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.seconds_per_batch = seconds_per_batch

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(texts)
        self.threads.add(threading.get_ident())
        time.sleep(self.seconds_per_batch)
        return np.array([[len(t), i] for i, t in enumerate(texts)], dtype=np.float32)


@pytest.mark.asyncio
async def test_concurrent_requests_share_batches_and_get_their_rows() -> None:
    encoder = RecordingEncoder()
    batcher = EncodeBatcher(encoder, max_batch_tokens=10_000, max_wait_s=0.02)
    requests = [[f"text-{i}-{'x' * j}" for j in range(3)] for i in range(16)]
    results = await asyncio.gather(*(batcher.encode(r, [10] * len(r)) for r in requests))
    await batcher.aclose()
    for texts, rows in zip(requests, results, strict=True):
        assert rows[:, 0].tolist() == [len(t) for t in texts]
    assert len(encoder.batches) < 4, encoder.batches
    assert threading.get_ident() not in encoder.threads


@pytest.mark.asyncio
async def test_token_budget_splits_batches() -> None:
    encoder = RecordingEncoder(seconds_per_batch=0)
    batcher = EncodeBatcher(encoder, max_batch_tokens=100, max_wait_s=0.02)
    await asyncio.gather(*(batcher.encode([f"t{i}"], [40]) for i in range(6)))
    await batcher.aclose()
    assert sorted(len(b) for b in encoder.batches) == [2, 2, 2]


@pytest.mark.asyncio
async def test_encoder_errors_reach_every_caller_and_the_worker_survives() -> None:
    calls = 0

    def flaky(texts: list[str]) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("out of memory")
        return np.ones((len(texts), 2), dtype=np.float32)

    batcher = EncodeBatcher(flaky, max_batch_tokens=1000, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="out of memory"):
        await batcher.encode(["a"], [1])
    assert (await batcher.encode(["b", "c"], [1, 1])).shape == (2, 2)
    await batcher.aclose()
