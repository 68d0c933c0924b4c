"""Run services with uvicorn; exit non-zero if a scorer fails to load."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from fastapi import FastAPI

from services.common.app import create_app, readiness_of
from services.common.scorer import Scorer
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
GRACEFUL_SHUTDOWN_S = 30


class ScorerLoadError(RuntimeError):
    """A service's model or data could not be loaded."""


def build_server(app: FastAPI, settings: ServiceSettings) -> uvicorn.Server:
    """A uvicorn server for one service's app, configured from its settings."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        access_log=False,
    )
    return uvicorn.Server(config)


async def serve_all(services: list[tuple[ServiceSettings, Scorer]]) -> None:
    """Serve every (settings, scorer) pair in this process until stopped or a load fails."""
    apps = [create_app(settings=settings, scorer=scorer) for settings, scorer in services]
    servers = [
        build_server(app, settings) for app, (settings, _) in zip(apps, services, strict=True)
    ]
    watcher = asyncio.create_task(_stop_on_load_failure(servers, apps))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        watcher.cancel()
    failures = [
        f"{scorer.service}: {error}"
        for app, (_, scorer) in zip(apps, services, strict=True)
        if (error := readiness_of(app).error)
    ]
    if failures:
        raise ScorerLoadError("; ".join(failures))


async def _stop_on_load_failure(servers: list[uvicorn.Server], apps: list[FastAPI]) -> None:
    while True:
        await asyncio.sleep(0.5)
        if any(readiness_of(app).error for app in apps):
            for server in servers:
                server.should_exit = True
            return
