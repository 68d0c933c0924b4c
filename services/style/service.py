"""The style service: its settings from the environment and its scorer."""

from __future__ import annotations

from typing import Any

from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings
from shared.settings import load_settings


def build_style_service(**overrides: Any) -> tuple[StyleSettings, StyleScorer]:
    """Settings (from `STYLE_*` variables and overrides) and an unloaded scorer."""
    settings = load_settings(StyleSettings, **overrides)
    return settings, StyleScorer(settings)
