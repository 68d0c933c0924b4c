"""Bounded in-flight work: `/score` answers 429 with `Retry-After` while the service is full."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.common.errors import ServiceError


class Admission:
    """Admits a request's texts while at most `max_texts` are being scored, else refuses it.

    Texts, not requests, are counted because scoring cost grows with the texts of a batch: one
    request of 256 texts loads a service like 256 requests of one. A request that arrives while
    nothing is in flight is always admitted, so a batch larger than the bound still gets served.
    """

    def __init__(
        self, *, max_texts: int, retry_after_s: int, setting: str, registry: CollectorRegistry
    ) -> None:
        self.max_texts, self.retry_after_s, self.setting = max_texts, retry_after_s, setting
        self.in_flight = 0
        self._gauge = Gauge(
            "stylegrpo_in_flight_texts", "Texts being scored now.", registry=registry
        )
        self._refused = Counter(
            "stylegrpo_busy_rejections",
            "/score requests refused with 429 because the service was full.",
            registry=registry,
        )

    @asynccontextmanager
    async def admit(self, texts: int) -> AsyncIterator[None]:
        """Hold `texts` in-flight slots for the body of the block, or raise a 429 `busy`."""
        # Handlers run on one event loop, so this check-then-add cannot interleave.
        if self.in_flight and self.in_flight + texts > self.max_texts:
            self._refused.inc()
            raise ServiceError(
                429,
                "busy",
                f"{self.in_flight} texts are being scored and this request adds {texts}; at most "
                f"{self.max_texts} in flight ({self.setting}); retry after "
                f"{self.retry_after_s} s",
                {"Retry-After": str(self.retry_after_s)},
            )
        self.in_flight += texts
        self._gauge.set(self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= texts
            self._gauge.set(self.in_flight)
