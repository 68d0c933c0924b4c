"""The judge service: its settings from the environment, its backend and its scorer."""

from __future__ import annotations

from typing import Any

from services.judge.backends.base import JudgeBackend
from services.judge.scorer import JudgeScorer
from services.judge.settings import JudgeSettings
from shared.settings import load_settings


def build_judge_backend(settings: JudgeSettings) -> JudgeBackend:
    """The backend the settings choose (nothing is loaded yet)."""
    if settings.backend == "openai":
        from services.judge.backends.openai_backend import OpenAIJudge

        return OpenAIJudge(settings)
    from services.judge.backends.transformers_backend import TransformersJudge

    return TransformersJudge(
        settings.model,
        device=settings.device,
        dtype=settings.dtype,
        max_tokens=settings.max_context_tokens,
    )


def build_judge_service(**overrides: Any) -> tuple[JudgeSettings, JudgeScorer]:
    """Settings (from `JUDGE_*` variables and overrides) and an unloaded scorer."""
    settings = load_settings(JudgeSettings, **overrides)
    return settings, JudgeScorer(settings, build_judge_backend(settings))
