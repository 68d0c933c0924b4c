"""The completeness service: its settings from the environment and its scorer."""

from __future__ import annotations

from typing import Any

from services.completeness.scorer import CompletenessScorer
from services.completeness.settings import CompletenessSettings
from shared.settings import load_settings


def build_completeness_service(
    **overrides: Any,
) -> tuple[CompletenessSettings, CompletenessScorer]:
    """Settings (from `COMPLETENESS_*` variables and overrides) and its scorer."""
    settings = load_settings(CompletenessSettings, **overrides)
    return settings, CompletenessScorer(settings)
