"""A reward service whose every `/score` takes a set time, run as a process by shutdown tests.

Usage: python tests/services/common/slow_service.py PORT DELAY_S GRACEFUL_SHUTDOWN_S
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from pydantic_settings import SettingsConfigDict

from services.common.scorer import ScoredBatch
from services.common.server import serve_all
from shared.schemas import ScoreRequest
from shared.settings import ServiceSettings


class SlowSettings(ServiceSettings):
    """Settings of the slow service: its own prefix, so the test's environment cannot leak in."""

    model_config = SettingsConfigDict(env_prefix="SLOW_")


class SlowScorer:
    """A `Scorer` that loads at once and spends `delay_s` on each batch, off the event loop."""

    service = "slow"
    model = "slow-model-1"
    default_profile = "plain"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.profiles = ["plain"]

    def load(self) -> None:
        """Nothing to load."""

    def counters(self) -> dict[str, float]:
        """No running totals beyond the HTTP layer's."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What `/info` reports under `scorer`."""
        return {"delay_s": self.delay_s}

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """0.5 for each text, after `delay_s`."""
        await asyncio.sleep(self.delay_s)
        return ScoredBatch(scores=[0.5] * len(request.texts), details=None)

    async def aclose(self) -> None:
        """Nothing to release."""


def main(argv: list[str]) -> None:
    """Serve a `SlowScorer` on 127.0.0.1 until SIGTERM or SIGINT."""
    port, delay_s, graceful_s = int(argv[0]), float(argv[1]), int(argv[2])
    settings = SlowSettings(port=port, graceful_shutdown_s=graceful_s, log_level="warning")
    asyncio.run(serve_all([(settings, SlowScorer(delay_s))]))


if __name__ == "__main__":
    main(sys.argv[1:])
