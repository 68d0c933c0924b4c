"""Settings of the completeness service (environment prefix `COMPLETENESS_`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import DEFAULT_PORTS, ServiceSettings

Formula = Literal["v1", "band"]
RuleWeight = Annotated[float, Field(ge=0.0, le=1.0)]


class CompletenessSettings(ServiceSettings):
    """Which length formula scores a text, its end marker, and how much each rule weighs."""

    model_config = SettingsConfigDict(env_prefix="COMPLETENESS_")

    port: int = Field(default=DEFAULT_PORTS["completeness"], ge=1, le=65535)
    formula: Formula = Field(
        default="band",
        description="`band`: a band of word counts and a required end marker; `v1`: a "
        "minimum, then sqrt(words / target), halved without terminal punctuation.",
    )
    band_low_words: int = Field(default=1200, ge=1, description="Fewest words scoring 1.0.")
    band_high_words: int = Field(default=1600, ge=1, description="Most words scoring 1.0.")
    band_half_life_words: float = Field(
        default=400, gt=0, description="Words above the band that halve the base score."
    )
    v1_min_words: int = Field(default=500, ge=0, description="`v1`: fewer words score 0.")
    v1_target_words: int = Field(default=1400, ge=1, description="`v1`: words scoring 1.0.")
    end_marker: str = Field(
        default="THE END.", min_length=1, description="The last line of a finished story."
    )
    loose_ending_credit: RuleWeight = Field(
        default=0.0,
        description="`band`: share of the score a loose ending earns, a last line that is the "
        'marker but for case and punctuation ("The End"); 0 = only the marker counts. Some '
        "credit gives a policy that never writes the exact marker a graded path towards it.",
    )
    unmarked_ending_credit: RuleWeight = Field(
        default=0.0,
        description="`band`: share of the score a story earns that ends a sentence but has no "
        "end-marker line; 0 = only a marker counts. With some credit the band's length signal "
        "reaches a policy that has not yet learnt the marker.",
    )
    truncation_weight: RuleWeight = Field(
        default=0.5, description="Weight of a last sentence without terminal punctuation."
    )
    repetition_weight: RuleWeight = Field(
        default=1.0, description="Weight of padding by repeated n-grams."
    )
    repetition_ngram: int = Field(default=4, ge=2, le=16, description="Words per n-gram.")
    repetition_threshold: float = Field(
        default=0.05, ge=0.0, lt=1.0, description="Repeated n-gram fraction where penalty starts."
    )
    repetition_full: float = Field(
        default=0.30, gt=0.0, le=1.0, description="Repeated n-gram fraction of full penalty."
    )
    trailing_junk_weight: RuleWeight = Field(
        default=1.0, description="Weight of any words after the end marker."
    )

    @field_validator("band_high_words")
    @classmethod
    def _band_is_not_empty(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("band_low_words")
        if low is not None and value <= low:
            raise ValueError(f"must be above COMPLETENESS_BAND_LOW_WORDS ({low})")
        return value

    @field_validator("v1_target_words")
    @classmethod
    def _target_reaches_the_minimum(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("v1_min_words")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least COMPLETENESS_V1_MIN_WORDS ({minimum})")
        return value

    @field_validator("end_marker")
    @classmethod
    def _marker_is_one_stripped_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value or value != value.strip():
            raise ValueError("must be one line without leading or trailing whitespace")
        return value

    @field_validator("repetition_full")
    @classmethod
    def _full_penalty_above_threshold(cls, value: float, info: ValidationInfo) -> float:
        threshold = info.data.get("repetition_threshold")
        if threshold is not None and value <= threshold:
            raise ValueError(f"must be above COMPLETENESS_REPETITION_THRESHOLD ({threshold})")
        return value
