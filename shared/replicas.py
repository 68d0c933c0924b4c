"""Which replica of a reward service takes the next chunk, and which replicas to skip for now.

A service may run as several replicas, one URL each. Each chunk goes to the healthy replica with
the fewest of this call's chunks in flight (least outstanding requests), ties going to the one
that has had the fewest requests. Least outstanding, not round-robin: chunks differ in size and
replicas in speed (another GPU, another trainer's load), so the replica that answers first takes
the next chunk and a step waits less on its slowest replica. A replica whose request fails after
its retries sits out a cool-down; when every replica left for a chunk is cooling down they are
tried anyway, soonest back first, so a service with one URL is never skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from shared.settings import split_commas


def replica_urls(value: object) -> list[str]:
    """The replica URLs of a service from one URL, a comma-separated string of them, or a list.

    >>> replica_urls("http://a:1"), replica_urls("http://a:1, http://b:2")
    (['http://a:1'], ['http://a:1', 'http://b:2'])
    >>> replica_urls(["http://a:1", "http://b:2/"])
    ['http://a:1', 'http://b:2/']
    """
    parts = split_commas(value)
    if not isinstance(parts, list | tuple) or not all(isinstance(part, str) for part in parts):
        raise ValueError(
            f"a service's url must be a URL, a comma-separated string of URLs or a list of URLs; "
            f"got {value!r}"
        )
    urls = [part.strip() for part in parts]
    if not urls:
        raise ValueError("a service needs at least one URL; got none")
    bad = [url for url in urls if not url.startswith(("http://", "https://"))]
    if bad:
        raise ValueError(f"replica URLs must start with http:// or https://; got {bad}")
    bases = [url.rstrip("/") for url in urls]
    repeated = sorted({base for base in bases if bases.count(base) > 1})
    if repeated:
        raise ValueError(f"replica URLs must differ; listed more than once: {repeated}")
    return urls


@dataclass(frozen=True)
class ReplicaCounts:
    """Chunks sent to one replica (each with its retries) and how many of them failed."""

    requests: int = 0
    failures: int = 0


class ReplicaPool:
    """Health and counts of one service's replicas, kept across every call of its client."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("a replica pool needs at least one URL")
        if cooldown_s < 0:
            raise ValueError(f"need cooldown_s >= 0, got {cooldown_s}")
        self.urls = list(urls)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._counts = {url: ReplicaCounts() for url in self.urls}
        self._down_until: dict[str, float] = {}

    def candidates(self, exclude: Collection[str] = ()) -> list[str]:
        """Replicas not in `exclude` to try: the healthy ones, else those cooling down,
        soonest back first; empty when `exclude` holds them all."""
        now = self._clock()
        left = [url for url in self.urls if url not in exclude]
        healthy = [url for url in left if self._down_until.get(url, now) <= now]
        return healthy or sorted(left, key=self._down_until.__getitem__)

    def due(self) -> list[str]:
        """Replicas marked down whose cool-down is over, to probe before they get work again."""
        now = self._clock()
        return [url for url, until in self._down_until.items() if until <= now]

    def sent(self, url: str) -> None:
        """Count a chunk sent to `url`."""
        self._counts[url] = replace(self._counts[url], requests=self._counts[url].requests + 1)

    def failed(self, url: str) -> bool:
        """Count a failed chunk and cool `url` down; True when it was up until now."""
        self._counts[url] = replace(self._counts[url], failures=self._counts[url].failures + 1)
        return self.cool_down(url)

    def cool_down(self, url: str) -> bool:
        """Skip `url` for the cool-down from now on; True when it was up until now."""
        was_up = url not in self._down_until
        self._down_until[url] = self._clock() + self.cooldown_s
        return was_up

    def answered(self, url: str) -> bool:
        """Mark `url` healthy; True when it was marked down until now."""
        return self._down_until.pop(url, None) is not None

    def requests(self, url: str) -> int:
        """Chunks sent to `url` so far."""
        return self._counts[url].requests

    def counts(self) -> dict[str, ReplicaCounts]:
        """A snapshot of every replica's counts, by URL, in the order the URLs were given."""
        return dict(self._counts)


class ReplicaSlots:
    """One call's chunks in flight on each replica, at most `per_replica` at a time.

    Made per call, inside the running event loop: TRL calls reward functions from its own loop,
    and asyncio primitives belong to the loop that first waits on them.
    """

    def __init__(self, pool: ReplicaPool, per_replica: int) -> None:
        if per_replica < 1:
            raise ValueError(f"need per_replica >= 1, got {per_replica}")
        self._pool = pool
        self._per_replica = per_replica
        self._in_flight = dict.fromkeys(pool.urls, 0)
        self._released = asyncio.Event()

    async def acquire(self, exclude: Collection[str] = ()) -> str | None:
        """The replica for a chunk's next try, once it has a free slot; None when `exclude`
        holds every replica."""
        while True:
            candidates = self._pool.candidates(exclude)
            if not candidates:
                return None
            free = [url for url in candidates if self._in_flight[url] < self._per_replica]
            if free:
                # min() keeps the first of equals, so ties follow the candidates' order.
                url = min(free, key=lambda u: (self._in_flight[u], self._pool.requests(u)))
                self._in_flight[url] += 1
                self._pool.sent(url)
                return url
            # Every candidate is busy with this call's own chunks, so a release will come.
            await self._released.wait()

    def release(self, url: str) -> None:
        """Free the slot a chunk held on `url` and wake the chunks waiting for one."""
        self._in_flight[url] -= 1
        self._released.set()
        self._released = asyncio.Event()
