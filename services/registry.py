"""The reward services by name, each built lazily from its environment settings."""

from __future__ import annotations

from collections.abc import Callable

from services.common.scorer import Scorer
from shared.settings import ServiceSettings

ServiceFactory = Callable[[], tuple[ServiceSettings, Scorer]]


def _style() -> tuple[ServiceSettings, Scorer]:
    from services.style.service import build_style_service

    return build_style_service()


def _completeness() -> tuple[ServiceSettings, Scorer]:
    from services.completeness.service import build_completeness_service

    return build_completeness_service()


def _judge() -> tuple[ServiceSettings, Scorer]:
    from services.judge.service import build_judge_service

    return build_judge_service()


SERVICES: dict[str, ServiceFactory] = {
    "style": _style,
    "judge": _judge,
    "completeness": _completeness,
}
