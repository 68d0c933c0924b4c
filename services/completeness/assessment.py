"""One text's completeness: the formula's base score, then one factor per rule.

    score = clip(base * prod(1 - weight_i * penalty_i), 0, 1)

Every weight and penalty lies in [0, 1], so each factor does too: a rule can only lower the
score, a weight of 1 lets a full penalty zero it, and weights of 0 leave the formula alone.
A product, not a sum: a rule takes the same share of any base score, so padding costs a short
story as much as a long one, and the clip only guards float rounding, never hides a penalty.

>>> combine(0.8, [RuleOutcome(value=1.0, weight=0.5, penalty=1.0)])
0.4
>>> combine(1.0, [RuleOutcome(1.0, 0.5, 1.0), RuleOutcome(0.4, 1.0, 0.6)])
0.2
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.completeness.ending import Ending, split_ending
from services.completeness.formulas import band_base, v1_base
from services.completeness.rules import (
    RuleOutcome,
    repetition_penalty,
    trailing_junk_penalty,
    truncation,
)
from services.completeness.settings import CompletenessSettings
from shared.schemas import CompletenessDetails, RuleResult
from shared.text import ends_sentence, repetition_ratio, words


@dataclass(frozen=True, slots=True)
class Assessment:
    """A text's word count, base score, end-marker flag, rule outcomes and final score."""

    formula: str
    words: int
    base: float
    end_marker_found: bool
    loose_ending_found: bool
    rules: dict[str, RuleOutcome]
    score: float

    def details(self) -> dict[str, Any]:
        """This assessment as the contract's `CompletenessDetails`, ready for JSON."""
        return CompletenessDetails(
            words=self.words,
            formula=self.formula,
            base=self.base,
            end_marker_found=self.end_marker_found,
            loose_ending_found=self.loose_ending_found,
            rules={
                name: RuleResult(value=rule.value, weight=rule.weight, penalty=rule.penalty)
                for name, rule in self.rules.items()
            },
            score=self.score,
        ).model_dump()


def combine(base: float, rules: Iterable[RuleOutcome]) -> float:
    """`base` times `1 - weight * penalty` for each rule, clipped to [0, 1]."""
    score = base
    for rule in rules:
        score *= 1.0 - rule.weight * rule.penalty
    return min(1.0, max(0.0, score))


def ending_credit(ending: Ending, settings: CompletenessSettings) -> float:
    """1 for the end-marker line; else the configured share for a loose marker line, or for a
    story whose last sentence ends; else 0."""
    if ending.marker_last:
        return 1.0
    if ending.loose_marker_last:
        return settings.loose_ending_credit
    return settings.unmarked_ending_credit if ends_sentence(ending.body) else 0.0


def assess(text: str, settings: CompletenessSettings) -> Assessment:
    """Score one text by the configured formula and every rule."""
    ending = split_ending(text, settings.end_marker)
    story_words = words(ending.body)
    count = len(story_words)
    if settings.formula == "v1":
        base = v1_base(
            count,
            ends_with_stop=ends_sentence(text),
            min_words=settings.v1_min_words,
            target_words=settings.v1_target_words,
        )
    else:
        base = band_base(
            count,
            ending_credit=ending_credit(ending, settings),
            low=settings.band_low_words,
            high=settings.band_high_words,
            half_life=settings.band_half_life_words,
        )
    truncated = truncation(ending.body)
    ratio = repetition_ratio(story_words, settings.repetition_ngram)
    junk = len(words(ending.after_marker))
    rules = {
        "truncation": RuleOutcome(truncated, settings.truncation_weight, truncated),
        "repetition": RuleOutcome(
            ratio,
            settings.repetition_weight,
            repetition_penalty(
                ratio, threshold=settings.repetition_threshold, full=settings.repetition_full
            ),
        ),
        "trailing_junk": RuleOutcome(
            float(junk), settings.trailing_junk_weight, trailing_junk_penalty(junk)
        ),
    }
    return Assessment(
        formula=settings.formula,
        words=count,
        base=base,
        end_marker_found=ending.marker_last,
        loose_ending_found=ending.loose_marker_last,
        rules=rules,
        score=combine(base, rules.values()),
    )
