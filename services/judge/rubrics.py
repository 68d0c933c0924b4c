"""Rubrics as versioned data: the judge's instructions, its score tokens and check effects.

A check's effect says what a full failure (severity 1) does to the score: `zero` and `minimum`
leave nothing, `halve` and `factor` multiply it by 0.5 or `value`, `cap` bounds it by `value`.
A graded check (the ending) at severity s < 1 cuts that much less: the multiplier becomes
multiplier + (1 - s) x (1 - multiplier), the cap likewise.

Why factors, not zeros, for what a policy gets wrong while learning (a missing end marker, an
unfinished ending, a name): GRPO learns from the differences within a group of samples of one
prompt, and a gate that zeroes every sample it hits makes a group of such samples all equal,
so it teaches nothing; on the base policy's stories none has the end marker, so a zero for it
flattened every group. A factor of 0.25 keeps the order within the group (a better story
still scores higher) while a gated story stays far below an ungated one of anything like its
quality. Zeros stay for what must never pay: meta-commentary and instructions to the judge.

>>> round(CheckEffect(effect="factor", value=0.25).apply(0.8, severity=0.2), 6)
0.68
>>> CheckEffect(effect="cap", value=0.3).apply(0.8), CheckEffect(effect="zero").apply(0.8)
(0.3, 0.0)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CheckName = Literal[
    "end_marker_missing", "forbidden_names", "meta_commentary", "abrupt_ending", "repetition"
]
Effect = Literal["zero", "minimum", "halve", "factor", "cap"]
_MULTIPLIERS = {"zero": 0.0, "minimum": 0.0, "halve": 0.5}


class CheckEffect(BaseModel):
    """What a failed check does to the score: zero it, force the minimum, halve it, multiply it
    by a factor, or cap it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effect: Effect
    value: float | None = Field(
        default=None, ge=0, le=1, description="The factor, for `factor`; the cap, for `cap`."
    )

    @model_validator(mode="after")
    def _value_when_needed(self) -> CheckEffect:
        if (self.effect in ("factor", "cap")) != (self.value is not None):
            raise ValueError("`value` is required for `factor` and `cap` and only for them")
        return self

    def apply(self, score: float, severity: float = 1.0) -> float:
        """The score after this effect, for a failure of `severity` in (0, 1]."""
        if self.effect == "cap":
            assert self.value is not None
            return min(score, self.value + (1 - severity) * (1 - self.value))
        full = self.value if self.value is not None else _MULTIPLIERS[self.effect]
        return score * (full + (1 - severity) * (1 - full))


class Rubric(BaseModel):
    """A judge rubric: prompt templates (`{prompt}`, `{story}`), score tokens low to high."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int
    description: str
    scores: list[str] = Field(min_length=2)
    system: str
    user: str
    answer_prefix: str = ""
    checks: dict[CheckName, CheckEffect]

    @model_validator(mode="after")
    def _template_has_fields(self) -> Rubric:
        for field in ("{prompt}", "{story}"):
            if field not in self.user:
                raise ValueError(f"rubric {self.name!r}: the user template lacks {field}")
        return self

    @property
    def values(self) -> list[float]:
        """Each score token's numeric value."""
        return [float(s) for s in self.scores]

    @property
    def key(self) -> str:
        """`name@version`, part of every cache key."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class JudgePrompt:
    """A rendered judge prompt and where the story sits in it (character offsets)."""

    text: str
    story_start: int
    story_end: int


def builtin_rubrics() -> dict[str, Rubric]:
    """The rubrics shipped with the package, by name."""
    folder = resources.files("services.judge") / "rubrics"
    rubrics = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            rubric = Rubric.model_validate(json.loads(entry.read_text(encoding="utf-8")))
            rubrics[rubric.name] = rubric
    return rubrics
