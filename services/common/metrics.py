"""Prometheus metrics of one service, in a registry of its own (no process-global state)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServiceMetrics:
    """Requests, latency, batch sizes, texts scored and errors of one service."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.requests = Counter(
            "stylegrpo_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        ).labels
        self.latency = Histogram(
            "stylegrpo_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        ).labels
        self.batch_texts = Histogram(
            "stylegrpo_batch_texts",
            "Texts per /score request.",
            list(labels),
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        ).labels(**labels)
        self.texts_scored = Counter(
            "stylegrpo_texts_scored", "Texts scored.", list(labels), registry=self.registry
        ).labels(**labels)
        self.errors = Counter(
            "stylegrpo_errors",
            "Error responses by status class.",
            ["status"],
            registry=self.registry,
        ).labels

    def watch(self, counters: Callable[[], dict[str, float]]) -> None:
        """Export a scorer's running totals as counters named `stylegrpo_<name>_total`."""
        self.registry.register(_CallbackCollector(counters))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _CallbackCollector(Collector):
    """Reads a scorer's counters at each scrape."""

    def __init__(self, counters: Callable[[], dict[str, float]]) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        for name, value in self.counters().items():
            yield CounterMetricFamily(f"stylegrpo_{name}", f"Scorer total: {name}.", value=value)


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by route template (bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: set[str]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.latency(route).observe(time.perf_counter() - started)
            self.metrics.requests(route, str(status)).inc()
            if status >= 400:
                self.metrics.errors(str(status)).inc()
