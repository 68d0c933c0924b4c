"""Run services with uvicorn; exit non-zero if a scorer fails to load."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from services.common.app import create_app, readiness_of
from services.common.scorer import Scorer
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ScorerLoadError(RuntimeError):
    """A service's model or data could not be loaded."""


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve_all`.

    Uvicorn's own handlers stop only the server that installed them last, and re-raise the
    signal once it has drained, so the process would die by SIGTERM instead of exiting 0.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_server(app: FastAPI, settings: ServiceSettings) -> uvicorn.Server:
    """A uvicorn server for one service's app, configured from its settings."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        access_log=False,
        # uvicorn's own lines go through the process's one format (`shared.logging`), not the
        # handlers and format uvicorn would install beside it.
        log_config=None,
    )
    return _Server(config)


async def serve_all(services: list[tuple[ServiceSettings, Scorer]]) -> None:
    """Serve every (settings, scorer) pair in this process until stopped or a load fails."""
    apps = [create_app(settings=settings, scorer=scorer) for settings, scorer in services]
    servers = [
        build_server(app, settings) for app, (settings, _) in zip(apps, services, strict=True)
    ]
    watcher = asyncio.create_task(_stop_on_load_failure(servers, apps))
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop, servers, sig)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        watcher.cancel()
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    failures = [
        f"{scorer.service}: {error}"
        for app, (_, scorer) in zip(apps, services, strict=True)
        if (error := readiness_of(app).error)
    ]
    if failures:
        raise ScorerLoadError("; ".join(failures))


def _stop(servers: list[uvicorn.Server], sig: signal.Signals) -> None:
    """Stop taking connections and let in-flight requests finish; a second SIGINT cuts them."""
    if sig == signal.SIGINT and any(server.should_exit for server in servers):
        for server in servers:
            server.force_exit = True
        return
    log.info("%s: finishing in-flight requests, then exiting", sig.name)
    for server in servers:
        server.should_exit = True


async def _stop_on_load_failure(servers: list[uvicorn.Server], apps: list[FastAPI]) -> None:
    while True:
        await asyncio.sleep(0.5)
        if any(readiness_of(app).error for app in apps):
            for server in servers:
                server.should_exit = True
            return
