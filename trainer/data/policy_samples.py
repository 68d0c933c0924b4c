"""`stylegrpo data policy-samples`: what the policy writes, as negatives for the style reward.

A style reward is only as good as its worst hole on the policy's own writing. The base policy's
stories for the training prompts are the text GRPO starts from; the style service learns them as
a contrast class of their own (`STYLE_POLICY_TEXTS`), grouped by prompt so its held-out fits
never score a story whose prompt they trained on. Sampling defaults to the original's GRPO sampling.

The file is a JSONL of records `{row, sample, prompt, plot, completion, tokens, truncated}`,
appended as each story is generated (a rerun generates only what is missing), and
`NAME.generation.json` beside it says what generated them.

    stylegrpo data policy-samples --model embedded:smollm2-135m-instruct \\
        --count 8 --max-new-tokens 384 --out data/policy/base.jsonl
    stylegrpo data policy-samples --model runs/sft/final --prompts data/grpo-prompts \\
        --split train --out data/policy/sft.jsonl
    stylegrpo data policy-samples --model twain-sft --vllm-url http://127.0.0.1:8000 ...
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainer.evaluation.completions import CompletionsStore
from trainer.evaluation.generation import Generator, SamplingSettings
from trainer.evaluation.prompts import PromptRow, load_prompt_rows, prompts_fingerprint
from trainer.grpo.prompts import plot_prompts

# Row columns kept in every record: what the style service groups the samples by.
KEPT_COLUMNS = ("plot",)


@dataclass(frozen=True)
class PolicySampling:
    """Which prompts, how many stories each, and how they are sampled."""

    prompts: Path | None = None
    split: str = "train"
    author_name: str = "Mark Twain"
    story_words: int = 1500
    count: int = 8
    limit: int | None = None
    sampling: SamplingSettings = field(default_factory=lambda: SamplingSettings(512))


def policy_prompt_rows(settings: PolicySampling) -> list[PromptRow]:
    """The prompts file's rows, or one row per built-in plot (`trainer.grpo.prompts`)."""
    if settings.prompts is not None:
        rows = load_prompt_rows(settings.prompts, settings.split)
    else:
        rows = [
            PromptRow(messages=row["prompt"], columns={"plot": row["plot"]})
            for row in plot_prompts(settings.author_name, settings.story_words)
        ]
    return rows[: settings.limit]


def identity_path(out: Path) -> Path:
    """Where what generated `out` is saved: `NAME.generation.json` beside it."""
    return out.with_name(f"{out.stem}.generation.json")


def build_policy_samples(
    generator: Generator, settings: PolicySampling, out: Path
) -> list[dict[str, Any]]:
    """Generate what `out` lacks of `count` stories per prompt; return every record."""
    if settings.count < 1 or (settings.limit is not None and settings.limit < 1):
        raise ValueError("count and limit must be >= 1")
    if out.suffix != ".jsonl":
        raise ValueError(f"--out must be a .jsonl file (got {out})")
    rows = policy_prompt_rows(settings)
    identity = {
        **generator.describe(),
        "sampling": asdict(settings.sampling),
        "prompts": prompts_fingerprint(rows),
    }
    store = CompletionsStore(out, identity, identity_path=identity_path(out), columns=KEPT_COLUMNS)
    return store.complete(generator, rows, settings.count)
