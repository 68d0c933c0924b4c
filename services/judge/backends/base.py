"""What a judge backend returns for one rendered prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.judge.rubrics import JudgePrompt


@dataclass(frozen=True)
class JudgeOutput:
    """The judge's log-probabilities of the score tokens at the answer position, and the mean
    per-token log-likelihood of the story inside the prompt."""

    score_logprobs: dict[str, float]
    story_logprob: float
    story_tokens: int


class JudgeBackend(Protocol):
    """Runs the judge model: load once, then evaluate rendered prompts."""

    @property
    def name(self) -> str:
        """The judge model, as reported in responses."""
        ...

    @property
    def tokenizer(self) -> object:
        """The model's tokenizer (chat template, offsets)."""
        ...

    @property
    def max_tokens(self) -> int:
        """The context the judge prompt must fit in."""
        ...

    def load(self) -> None:
        """Load the model (or check the server); blocking."""
        ...

    async def evaluate(
        self, prompts: list[JudgePrompt], score_tokens: list[str]
    ) -> list[JudgeOutput]:
        """One `JudgeOutput` per prompt, in order."""
        ...

    async def aclose(self) -> None:
        """Release connections or memory."""
        ...
