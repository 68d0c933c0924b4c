"""Real reward services on loopback for the trainer's tests, with faults that can be switched on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.app import create_app
from services.completeness.service import build_completeness_service
from services.launcher import wait_ready


@dataclass
class Faults:
    """What the wrapped service does to the next `/score` requests."""

    fail_next: int = 0  # answer this many with 503
    fail_after: int | None = None  # answer every request after this many with 503 (an outage)
    requests: int = 0
    in_flight: int = 0
    most_in_flight: int = 0


class FaultyService:
    """ASGI wrapper: fails `/score` requests on demand and counts concurrency."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app, self.faults = app, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/score":
            await self.app(scope, receive, send)
            return
        faults = self.faults
        faults.requests += 1
        down = faults.fail_after is not None and faults.requests > faults.fail_after
        if down or faults.fail_next > 0:
            faults.fail_next = max(0, faults.fail_next - 1)
            body = {"error": {"type": "overloaded", "message": "try again"}}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        faults.in_flight += 1
        faults.most_in_flight = max(faults.most_in_flight, faults.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            faults.in_flight -= 1


@pytest.fixture
def completeness_service(run_asgi: Callable[[Any], str]) -> tuple[str, Faults]:
    """A real completeness service behind a fault switch: (URL, faults)."""
    settings, scorer = build_completeness_service()
    faults = Faults()
    url = run_asgi(FaultyService(create_app(settings=settings, scorer=scorer), faults))
    wait_ready(url, 30)
    return url, faults
