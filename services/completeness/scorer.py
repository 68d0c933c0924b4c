"""The completeness scorer: a length formula and rules against exploits, no model."""

from __future__ import annotations

import asyncio
from typing import Any

from services.common.scorer import ScoredBatch, WithoutProfiles
from services.completeness.assessment import assess
from services.completeness.settings import CompletenessSettings
from shared.schemas import ScoreRequest

# Bumped whenever a rule or formula changes what it returns for the same settings.
RULES_VERSION = 1


class CompletenessScorer(WithoutProfiles):
    """Scores whether each text is a whole story of the asked-for length, honestly reached."""

    service = "completeness"

    def __init__(self, settings: CompletenessSettings) -> None:
        self._settings = settings

    @property
    def model(self) -> str:
        """The formula and the rules' version, e.g. `rules:band-v1`."""
        return f"rules:{self._settings.formula}-v{RULES_VERSION}"

    def load(self) -> None:
        """Nothing to load: the rules are plain code."""

    def counters(self) -> dict[str, float]:
        """No running totals beyond the HTTP layer's."""
        return {}

    def describe(self) -> dict[str, Any]:
        """The formula, its parameters and each rule's weight, for `/info`."""
        s = self._settings
        return {
            "formula": s.formula,
            "combine": "base * prod(1 - weight * penalty), clipped to [0, 1]",
            "band_words": [s.band_low_words, s.band_high_words],
            "band_half_life_words": s.band_half_life_words,
            "v1_min_words": s.v1_min_words,
            "v1_target_words": s.v1_target_words,
            "end_marker": s.end_marker,
            "loose_ending_credit": s.loose_ending_credit,
            "unmarked_ending_credit": s.unmarked_ending_credit,
            "weights": {
                "truncation": s.truncation_weight,
                "repetition": s.repetition_weight,
                "trailing_junk": s.trailing_junk_weight,
            },
            "repetition": {
                "ngram": s.repetition_ngram,
                "threshold": s.repetition_threshold,
                "full": s.repetition_full,
            },
        }

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """Score each text off the event loop; prompts and references are not needed."""
        self.reject_profile(request)
        return await asyncio.to_thread(self._score_all, request.texts, request.details)

    async def aclose(self) -> None:
        """Nothing to release."""

    def _score_all(self, texts: list[str], with_details: bool) -> ScoredBatch:
        assessments = [assess(text, self._settings) for text in texts]
        return ScoredBatch(
            scores=[a.score for a in assessments],
            details=[a.details() for a in assessments] if with_details else None,
        )
