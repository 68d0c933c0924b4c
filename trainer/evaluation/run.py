"""An evaluation run: check the services, generate (resumably), score, write the results.

`OUT/NAME/completions.jsonl` holds each model's completions (appended as generated, so a rerun
generates only what is missing) and `OUT/NAME/generation.json` how they were generated;
`OUT/results/` (replaced whole) holds `results.csv`, `results.md`, `scores.csv` (every
completion's measures) and one PNG per measure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.files import replaced_folder
from trainer.evaluation.author_lm import AuthorLmMeasures
from trainer.evaluation.completions import COMPLETIONS_FILE, CompletionsStore
from trainer.evaluation.generation import Generator, SamplingSettings, build_generator
from trainer.evaluation.intervals import CONFIDENCE, RESAMPLES, shares_prompts
from trainer.evaluation.plots import plot_measures
from trainer.evaluation.prompts import load_prompt_rows, prompts_fingerprint
from trainer.evaluation.scoring import check_services, score_completions
from trainer.evaluation.stylometry import StylometryProfile
from trainer.evaluation.table import (
    DESCRIPTIONS,
    EXCLUDES_ZERO,
    markdown_table,
    summarize,
    write_csv,
)
from trainer.grpo.reward_config import RewardSpec

RESULTS_FOLDER = "results"
# Measures that are scores or shares in 0..1 (the rewards' names are added per run).
UNIT_INTERVAL = {"total", "copied", "stylometry", "distinct_2", "truncated"}


@dataclass(frozen=True)
class ModelToEvaluate:
    """A model under a name of its own (its folder and column), and how to sample it."""

    name: str
    model: str
    sampling: SamplingSettings


@dataclass(frozen=True)
class EvaluationSetup:
    """What every model of a run is evaluated on, and with what."""

    prompts: Path
    out: Path
    rewards: list[RewardSpec]
    books: Path
    author: str
    split: str = "test"
    limit: int | None = None
    num_samples: int = 1
    batch_size: int = 8
    cache_dir: Path = Path.home() / ".cache" / "stylegrpo"
    server_url: str | None = None
    server_api_key: str | None = None
    # The author-LM measures (`AuthorLmMeasures`): SmolLM2 fine-tuned on `books` of `author`
    # and on the other authors' books, each once (cached), minutes on a CPU.
    author_lm: bool = True
    # What generates a model's stories (model, sampling -> generator), in place of transformers
    # or the server at `server_url`.
    generator_for: Callable[[str, SamplingSettings], Generator] | None = None


def evaluate(models: list[ModelToEvaluate], setup: EvaluationSetup) -> Path:
    """Evaluate each model on the same prompts; return the results folder."""
    names = [m.name for m in models]
    if not models or len(set(names)) < len(names) or RESULTS_FOLDER in names:
        raise ValueError(
            f"need one or more models with distinct names other than {RESULTS_FOLDER!r}; got "
            f"{names} (set --name / --name2)"
        )
    if setup.num_samples < 1 or (setup.limit is not None and setup.limit < 1):
        raise ValueError("num_samples and limit must be >= 1")
    all_rows = load_prompt_rows(setup.prompts, setup.split)
    rows = all_rows[: setup.limit]
    # Fail before generating, which can take hours, not after.
    asyncio.run(check_services(setup.rewards))
    stylometry = StylometryProfile.from_books(setup.books, setup.author)
    language_models = (
        AuthorLmMeasures.build(setup.books, setup.author, cache_dir=setup.cache_dir)
        if setup.author_lm
        else None
    )
    scores: dict[str, list[dict[str, Any]]] = {}
    for spec in models:
        generator = _generator(spec, setup)
        identity = {
            **generator.describe(),
            "sampling": asdict(spec.sampling),
            "prompts": prompts_fingerprint(all_rows),
            "split": setup.split,
        }
        store = CompletionsStore(setup.out / spec.name / COMPLETIONS_FILE, identity)
        completions = store.complete(generator, rows, setup.num_samples)
        del generator  # a local model's memory goes before the next one loads
        scores[spec.name] = score_completions(
            setup.rewards, completions, rows, stylometry, language_models
        )
    measures = [
        *(r.name for r in setup.rewards),
        "total",
        "copied",
        "stylometry",
        "stylometry_delta",
        *(language_models.names if language_models is not None else []),
        "distinct_2",
        "words",
        "truncated",
    ]
    table = summarize(scores, measures)
    with replaced_folder(setup.out / RESULTS_FOLDER) as staging:
        write_csv(staging / "results.csv", table)
        write_csv(
            staging / "scores.csv",
            [{"model": name, **row} for name, scored in scores.items() for row in scored],
        )
        plots = plot_measures(
            scores, measures, staging, unit_interval=UNIT_INTERVAL | {r.name for r in setup.rewards}
        )
        (staging / "results.md").write_text(
            _page(models, setup, len(rows), table, list(plots), scores), encoding="utf-8"
        )
    return setup.out / RESULTS_FOLDER


def _generator(spec: ModelToEvaluate, setup: EvaluationSetup) -> Generator:
    if setup.generator_for is not None:
        return setup.generator_for(spec.model, spec.sampling)
    return build_generator(
        spec.model,
        spec.sampling,
        batch_size=setup.batch_size,
        cache_dir=setup.cache_dir,
        server_url=setup.server_url,
        server_api_key=setup.server_api_key,
    )


def _page(
    models: list[ModelToEvaluate],
    setup: EvaluationSetup,
    rows: int,
    table: list[dict[str, Any]],
    plotted: list[str],
    scores: dict[str, list[dict[str, Any]]],
) -> str:
    names = [m.name for m in models]
    lines = ["# Evaluation", ""]
    lines += [
        f"- **{m.name}**: `{m.model}`, sampling {json.dumps(asdict(m.sampling))}" for m in models
    ]
    lines += [
        f"- prompts: `{setup.prompts}` ({setup.split}), {rows} rows, {setup.num_samples} "
        f"completion(s) per row; stylometry against `{setup.author}` from `{setup.books}`",
        "",
        markdown_table(table, names),
        "",
    ]
    if len(names) == 2:
        resampled = (
            "the prompt rows, each with both models' completions (paired)"
            if shares_prompts(scores[names[0]], scores[names[1]])
            else "each model's completions independently (unpaired)"
        )
        lines += [
            f"{names[1]} - {names[0]}: difference of means [{CONFIDENCE:.0%} percentile "
            f"bootstrap interval, {RESAMPLES} resamples of {resampled}]; {EXCLUDES_ZERO} where "
            "the interval leaves out 0.",
            "",
        ]
    weights = ", ".join(f"{r.name} {r.weight:g}" for r in setup.rewards)
    for row in table:
        described = DESCRIPTIONS.get(row["metric"], "")
        lines.append(
            f"- `{row['metric']}`: {described}"
            + (f" ({weights})" if row["metric"] == "total" else "")
        )
    lines += ["", *(f"![{measure}]({measure}.png)" for measure in plotted), ""]
    return "\n".join(lines)
