"""Coalesce concurrent encode requests into shared encoder batches, off the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

EncodeFn = Callable[[list[str]], NDArray[np.float32]]


@dataclass
class _Job:
    texts: list[str]
    tokens: int
    future: asyncio.Future[NDArray[np.float32]] = field(repr=False)


class EncodeBatcher:
    """Queue windows from many requests and encode them together, one batch at a time.

    A batch closes when it holds `max_batch_tokens` tokens or `max_wait_s` has passed since its
    first job arrived. Encoding runs in a worker thread so the event loop stays responsive; only
    one batch runs at a time because the encoder already uses every core.
    """

    def __init__(self, encode: EncodeFn, *, max_batch_tokens: int, max_wait_s: float) -> None:
        self._encode = encode
        self._max_batch_tokens = max_batch_tokens
        self._max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._held: _Job | None = None

    async def encode(self, texts: list[str], token_counts: list[int]) -> NDArray[np.float32]:
        """Embeddings of `texts` (one row each), encoded together with concurrent callers."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        loop = asyncio.get_running_loop()
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run(self._queue), name="encode-batcher")
        job = _Job(texts=texts, tokens=sum(token_counts), future=loop.create_future())
        await self._queue.put(job)
        return await job.future

    async def aclose(self) -> None:
        """Stop the worker; jobs still queued fail with `CancelledError`."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def _run(self, queue: asyncio.Queue[_Job]) -> None:
        while True:
            jobs = await self._collect(queue)
            texts = [text for job in jobs for text in job.texts]
            try:
                embeddings = await asyncio.to_thread(self._encode, texts)
            except Exception as exc:  # the callers get the encoder's error
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job in jobs:
                end = start + len(job.texts)
                if not job.future.done():
                    job.future.set_result(embeddings[start:end])
                start = end

    async def _collect(self, queue: asyncio.Queue[_Job]) -> list[_Job]:
        first = self._held or await queue.get()
        self._held = None
        jobs, tokens = [first], first.tokens
        deadline = time.monotonic() + self._max_wait_s
        while tokens < self._max_batch_tokens:
            remaining = deadline - time.monotonic()
            try:
                job = (
                    queue.get_nowait()
                    if remaining <= 0
                    else await asyncio.wait_for(queue.get(), remaining)
                )
            except (asyncio.QueueEmpty, TimeoutError):
                break
            if tokens + job.tokens > self._max_batch_tokens:
                self._held = job
                break
            jobs.append(job)
            tokens += job.tokens
        return jobs
