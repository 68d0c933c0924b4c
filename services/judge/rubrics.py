"""Rubrics as versioned data: the judge's instructions, its score tokens and check effects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CheckName = Literal[
    "end_marker_missing", "forbidden_names", "meta_commentary", "abrupt_ending", "repetition"
]
Effect = Literal["zero", "minimum", "halve", "cap"]


class CheckEffect(BaseModel):
    """What a failed check does to the score: zero it, force the minimum, halve it, or cap it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effect: Effect
    value: float | None = Field(default=None, ge=0, le=1, description="The cap, for `cap`.")

    @model_validator(mode="after")
    def _cap_has_value(self) -> CheckEffect:
        if (self.effect == "cap") != (self.value is not None):
            raise ValueError("`value` is required for `cap` and only for `cap`")
        return self

    def apply(self, score: float) -> float:
        """The score after this effect."""
        if self.effect in ("zero", "minimum"):
            return 0.0
        if self.effect == "halve":
            return score / 2
        assert self.value is not None
        return min(score, self.value)


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
