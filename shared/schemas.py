"""The one HTTP contract of the reward services, used by servers, client and tests alike."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
    model_validator,
)

Score = float


class ScoreRequest(BaseModel):
    """Body of `POST /score`: a batch of texts, with optional parallel prompts and references."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] = Field(min_length=1, description="The texts to score.")
    prompts: list[StrictStr] | None = Field(
        default=None, description="One prompt per text (parallel to `texts`)."
    )
    references: list[StrictStr] | None = Field(
        default=None, description="One reference text per text (parallel to `texts`)."
    )
    profile: StrictStr | None = Field(
        default=None, min_length=1, description="Named profile (e.g. an author) to score against."
    )
    details: StrictBool = Field(default=False, description="Return per-text details.")

    @field_validator("texts", "prompts", "references", "profile")
    @classmethod
    def _valid_unicode(cls, value: str | list[str] | None) -> str | list[str] | None:
        # JSON may carry lone surrogates (`"\\ud800"`) that no tokenizer can encode.
        for i, text in enumerate([value] if isinstance(value, str) else value or []):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                where = f"item {i}, " if isinstance(value, list) else ""
                raise ValueError(
                    f"{where}character {exc.start} is a lone surrogate "
                    f"({text[exc.start]!a}); send valid Unicode text"
                ) from None
        return value

    @model_validator(mode="after")
    def _parallel_lists_match(self) -> ScoreRequest:
        for name in ("prompts", "references"):
            values = getattr(self, name)
            if values is not None and len(values) != len(self.texts):
                raise ValueError(
                    f"`{name}` has {len(values)} items but `texts` has {len(self.texts)}; "
                    f"`{name}` must be parallel to `texts`"
                )
        return self


class ScoreResponse(BaseModel):
    """Body of a successful `POST /score`: one score in [0, 1] per text."""

    scores: list[float] = Field(description="One score in [0, 1] per text, in request order.")
    service: str
    model: str
    details: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _scores_in_unit_interval(self) -> ScoreResponse:
        bad = [s for s in self.scores if not 0.0 <= s <= 1.0]
        if bad:
            raise ValueError(f"scores must lie in [0, 1], got {bad[:3]}")
        if self.details is not None and len(self.details) != len(self.scores):
            raise ValueError("`details` must have one entry per score")
        return self


class ErrorDetail(BaseModel):
    """What went wrong: a machine-readable type and a message for people."""

    type: str
    message: str


class ErrorResponse(BaseModel):
    """The one error shape every route answers with."""

    error: ErrorDetail


class Limits(BaseModel):
    """Request limits a service enforces."""

    max_texts: int
    max_chars: int
    max_body_bytes: int


class InfoResponse(BaseModel):
    """Body of `GET /info`: what a service serves and how it is configured."""

    service: str
    model: str
    version: str
    ready: bool
    profiles: list[str]
    default_profile: str | None
    limits: Limits
    scorer: dict[str, Any] = Field(default_factory=dict, description="Scorer-specific settings.")


class WindowScore(BaseModel):
    """One scored window of a text (style service details)."""

    start: int = Field(description="Character offset where the window starts.")
    end: int = Field(description="Character offset where the window ends (exclusive).")
    tokens: int
    similarity: float = Field(
        description="Raw similarity before calibration: projection on the profile's direction, "
        "or cosine to the reference."
    )
    classifier: float | None = Field(
        default=None,
        description="The n-gram authorship classifier's log-odds for the profile's author "
        "(profile mode with the classifier on).",
    )
    score: float


class StyleDetails(BaseModel):
    """Per-text details of the style service."""

    windows: list[WindowScore]
    coverage: float = Field(description="Fraction of the text's tokens inside some window.")
    evidence_weight: float | None = Field(
        default=None,
        description="How much of its own evidence the score kept, by the text's length: 0 at "
        "or below STYLE_EVIDENCE_MIN_WORDS words (the score is STYLE_EVIDENCE_PRIOR), 1 from "
        "STYLE_EVIDENCE_FULL_WORDS, linear in log-odds between.",
    )
    mode: str = Field(description="`profile` or `reference`.")
    profile: str | None = None
    copied_fraction: float | None = Field(
        default=None,
        description="Fraction of the text's words inside a run of STYLE_COPY_NGRAM_WORDS words "
        "found in the profile's books or the reference; None with the copy guard off.",
    )
    longest_copied_words: int | None = Field(
        default=None, description="Longest run of consecutive copied words."
    )
    copy_penalty_factor: float | None = Field(
        default=None,
        description="What the score was multiplied by for copying, in [0, 1]; 1 = no penalty.",
    )
    known_ngram_fraction: float | None = Field(
        default=None,
        description="Fraction of the text's words inside a word n-gram (STYLE_PROSE_NGRAM_WORDS) "
        "found in the books or negative texts; None with the prose guard off.",
    )
    prose_factor: float | None = Field(
        default=None,
        description="What the score was multiplied by for not reading as prose, in [0, 1]: 0 at "
        "or below STYLE_PROSE_KNOWN_FLOOR, 1 from STYLE_PROSE_KNOWN_FULL, linear between.",
    )
    repeated_bigram_fraction: float | None = Field(
        default=None,
        description="Share of the text's word pairs that repeat an earlier pair of the same "
        "stretch of ~STYLE_REPETITION_WINDOW_WORDS words (the stretches' mean, by words); None "
        "with the repetition guard off.",
    )
    repetition_factor: float | None = Field(
        default=None,
        description="What the score was multiplied by for repetition, in [0, 1]: per stretch 1 "
        "up to STYLE_REPETITION_THRESHOLD, 0 from STYLE_REPETITION_FULL, linear between; the "
        "stretches' mean, by words.",
    )
    copied_from: str | None = Field(
        default=None,
        description="The profile's book the copied words come from most; None when nothing is "
        "copied, in reference mode, or with the copy guard off.",
    )
    reasons: list[str] = Field(
        default_factory=list,
        description="Why the score is below its windows' scores, one sentence per cut (copying, "
        "not prose, repetition, too little text), most decisive first; empty when nothing cut it.",
    )


class RuleResult(BaseModel):
    """One completeness rule on one text: what it measured, its weight and its penalty."""

    value: float = Field(description="What the rule measured (its unit depends on the rule).")
    weight: float = Field(description="How much a full penalty costs, in [0, 1].")
    penalty: float = Field(description="How badly the text breaks the rule, in [0, 1].")


class CompletenessDetails(BaseModel):
    """Per-text details of the completeness service."""

    words: int = Field(description="Words of the story, before its first end-marker line.")
    formula: str = Field(description="`band` or `v1`.")
    base: float = Field(description="The formula's score, before the rules.")
    end_marker_found: bool = Field(description="Whether the last non-blank line is the marker.")
    loose_ending_found: bool = Field(
        default=False,
        description="Whether the last non-blank line is the marker but for case and punctuation "
        "(`band` credits it COMPLETENESS_LOOSE_ENDING_CREDIT).",
    )
    rules: dict[str, RuleResult] = Field(description="`truncation`, `repetition`, ...")
    score: float = Field(description="base x prod(1 - weight x penalty), in [0, 1].")
