"""What a generation backend takes and gives: sampling settings, jobs, completions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SamplingSettings:
    """How completions are sampled; the defaults are the original's GRPO sampling."""

    max_new_tokens: int = 1500
    temperature: float = 0.9
    top_p: float = 0.95
    top_k: int = 50
    min_p: float = 0.02
    repetition_penalty: float = 1.05
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens must be >= 1 (got {self.max_new_tokens})")
        if self.temperature < 0:
            problems.append(f"temperature must be >= 0 (got {self.temperature}; 0 is greedy)")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1] (got {self.top_p})")
        if not 0 <= self.min_p < 1:
            problems.append(f"min_p must be in [0, 1) (got {self.min_p})")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty must be > 0 (got {self.repetition_penalty})")
        if problems:
            raise ValueError("invalid sampling settings: " + "; ".join(problems))


@dataclass(frozen=True)
class Job:
    """One completion to generate: sample `sample` of prompt row `row`."""

    row: int
    sample: int
    messages: list[dict[str, str]]


@dataclass(frozen=True)
class Completion:
    """A generated completion, its length in tokens, and whether it hit the token limit."""

    row: int
    sample: int
    text: str
    tokens: int
    truncated: bool


def job_seed(seed: int, job: Job) -> int:
    """A seed of the job's own, the same on every run: a rerun samples the same stories.

    >>> job_seed(0, Job(row=2, sample=1, messages=[]))
    2019
    """
    return seed * 1_000_003 + job.row * 1009 + job.sample


class Generator(Protocol):
    """A model that turns jobs into completions, reporting each as soon as it is done."""

    def describe(self) -> dict[str, str]:
        """What generates (backend, model), as saved beside the completions."""
        ...

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        """Generate every job; call `on_done` once per completion, in any order."""
        ...


def build_generator(
    model: str,
    sampling: SamplingSettings,
    *,
    batch_size: int,
    cache_dir: Path,
    server_url: str | None = None,
    server_api_key: str | None = None,
) -> Generator:
    """Transformers in this process, or the OpenAI-compatible server at `server_url` (where
    `model` is the server's name for it and `batch_size` the requests in flight)."""
    if server_url:
        from trainer.evaluation.server_generator import OpenAIChatGenerator

        return OpenAIChatGenerator(
            server_url, model, sampling, concurrency=batch_size, api_key=server_api_key
        )
    from trainer.evaluation.local_generator import TransformersGenerator

    return TransformersGenerator(model, sampling, batch_size=batch_size, cache_dir=cache_dir)
