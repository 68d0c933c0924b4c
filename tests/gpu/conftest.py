"""The GPU tier: tests marked `gpu` run where CUDA is and are skipped, saying why, elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import pytest

from services.common.scorer import ScoredBatch
from shared.schemas import ScoreRequest

NO_CUDA = (
    "needs CUDA: torch.cuda.is_available() is False on this machine; "
    "run `pytest -m gpu tests/gpu` on a GPU machine"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a `gpu` test before its fixtures load any model when there is no CUDA."""
    if item.get_closest_marker("gpu") is None:
        return
    import torch

    if not torch.cuda.is_available():
        pytest.skip(NO_CUDA)


class Scorer(Protocol):
    """What the style and judge scorers share: load, score a batch, release."""

    def load(self) -> None: ...

    async def score(self, request: ScoreRequest) -> ScoredBatch: ...

    async def aclose(self) -> None: ...


ScoreBatch = Callable[[Scorer, list[str]], tuple[list[float], float]]


def score_batch(scorer: Scorer, texts: list[str]) -> tuple[list[float], float]:
    """Load `scorer`, score `texts` in one request; the scores and the texts per second.

    The first request is a warm-up (CUDA kernels, caches); the second one is timed.
    """
    scorer.load()

    async def run() -> tuple[list[float], float]:
        try:
            await scorer.score(ScoreRequest(texts=texts[:1]))
            start = time.perf_counter()
            batch = await scorer.score(ScoreRequest(texts=texts))
            return list(batch.scores), len(texts) / (time.perf_counter() - start)
        finally:
            await scorer.aclose()

    return asyncio.run(run())


@pytest.fixture
def scored() -> ScoreBatch:
    """`scores, texts_per_s = scored(scorer, texts)`: see `score_batch`."""
    return score_batch
