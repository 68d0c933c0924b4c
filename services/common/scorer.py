"""What a reward service's scorer provides to the HTTP layer (no web framework in here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from shared.schemas import ScoreRequest

if TYPE_CHECKING:  # only for the annotation: a scorer module must import without a web framework
    from fastapi import APIRouter


class InvalidInputError(ValueError):
    """The request is well-formed but cannot be scored as asked (answered with 422)."""


@dataclass(frozen=True)
class ScoredBatch:
    """Scores in [0, 1], one per text, and optional per-text details."""

    scores: list[float]
    details: list[dict[str, Any]] | None = None


class Scorer(Protocol):
    """A reward: `load()` once (blocking, off the event loop), then `score()` batches."""

    service: str

    @property
    def model(self) -> str:
        """The model that scores, as reported in responses."""
        ...

    @property
    def profiles(self) -> list[str]:
        """Names a request may pass as `profile`."""
        ...

    @property
    def default_profile(self) -> str | None:
        """The profile used when a request names none."""
        ...

    def load(self) -> None:
        """Load models and data; called once, in a worker thread, before any `score`."""
        ...

    def describe(self) -> dict[str, Any]:
        """Scorer-specific configuration for `/info`."""
        ...

    def counters(self) -> dict[str, float]:
        """Scorer-specific running totals for `/metrics` (e.g. cache hits), by name."""
        ...

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """Score a validated batch; must not block the event loop."""
        ...

    async def aclose(self) -> None:
        """Release what `load` and `score` hold."""
        ...


@runtime_checkable
class ServesRoutes(Protocol):
    """A scorer with routes of its own besides the shared ones, e.g. a page for people."""

    def routers(self) -> Sequence[APIRouter]:
        """Routers `create_app` includes; import them inside, so the scorer module stays light."""
        ...


class WithoutProfiles:
    """For scorers that do not depend on an author: no profiles, and a clear 422 if one is named."""

    service: str

    @property
    def profiles(self) -> list[str]:
        """None: this score does not depend on an author."""
        return []

    @property
    def default_profile(self) -> str | None:
        """None: this score does not depend on an author."""
        return None

    def reject_profile(self, request: ScoreRequest) -> None:
        """Raise `InvalidInputError` if the request names a profile."""
        if request.profile is not None:
            raise InvalidInputError(
                f"the {self.service} service has no profiles; omit `profile` "
                f"(got {request.profile!r})"
            )
