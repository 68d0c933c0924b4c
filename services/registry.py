"""The reward services by name, each built lazily from its environment settings."""

from __future__ import annotations

from collections.abc import Callable

from services.common.scorer import Scorer
from shared.settings import ServiceSettings

ServiceFactory = Callable[[], tuple[ServiceSettings, Scorer]]


def _style() -> tuple[ServiceSettings, Scorer]:
    from services.style.service import build_style_service

    return build_style_service()


SERVICES: dict[str, ServiceFactory] = {"style": _style}
