"""`stylegrpo eval`: evaluate one model, or compare two, on held-out prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.settings import default_url
from trainer.evaluation.generation_options import (
    CACHE_DIR,
    BatchSize,
    ModelCacheDir,
    SamplingFloat,
    SamplingInt,
    VllmApiKey,
    VllmUrl,
)

SERVICES = "Reward services"


def eval_command(
    prompts: Annotated[
        Path,
        typer.Option(help="A `data build-grpo-prompts` folder, or a JSONL file with `prompt`."),
    ],
    model: Annotated[
        str,
        typer.Option(
            help="Hub id, folder or embedded:smollm2-135m-instruct; with --vllm-url, the "
            "server's model name."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (rerunning it resumes).")],
    books: Annotated[
        Path,
        typer.Option(
            envvar="STYLEGRPO_BOOKS_DIR",
            help="Folder of AUTHOR--TITLE.txt books for the stylometric measure.",
        ),
    ],
    model2: Annotated[str | None, typer.Option(help="A second model to compare with.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of --model in the results.")] = None,
    name2: Annotated[str | None, typer.Option(help="Name of --model2 in the results.")] = None,
    author: Annotated[str, typer.Option(help="Author id of the books (stylometry).")] = (
        "mark-twain"
    ),
    author_lm: Annotated[
        bool,
        typer.Option(
            "--author-lm/--no-author-lm",
            help="Also measure the author-LM likelihood ratios, over the base model and over "
            "the other authors of --books (fine-tunes SmolLM2 on the author's books and on the "
            "others' once, then cached: minutes each on a CPU).",
        ),
    ] = True,
    split: Annotated[str, typer.Option(help="Split file of a prompts folder.")] = "test",
    limit: Annotated[int | None, typer.Option(min=1, help="Use the first N prompt rows.")] = None,
    num_samples: Annotated[int, typer.Option(min=1, help="Completions per prompt row.")] = 1,
    batch_size: BatchSize = 8,
    vllm_url: VllmUrl = None,
    vllm_api_key: VllmApiKey = None,
    cache_dir: ModelCacheDir = CACHE_DIR,
    max_new_tokens: SamplingInt = 1500,
    temperature: SamplingFloat = 0.9,
    top_p: SamplingFloat = 0.95,
    top_k: SamplingInt = 50,
    min_p: SamplingFloat = 0.02,
    repetition_penalty: SamplingFloat = 1.05,
    seed: SamplingInt = 0,
    style_url: Annotated[
        str,
        typer.Option(
            envvar="STYLEGRPO_STYLE_URL",
            help="URL of the style service.",
            rich_help_panel=SERVICES,
        ),
    ] = default_url("style"),
    judge_url: Annotated[
        str,
        typer.Option(
            envvar="STYLEGRPO_JUDGE_URL",
            help="URL of the judge service.",
            rich_help_panel=SERVICES,
        ),
    ] = default_url("judge"),
    completeness_url: Annotated[
        str,
        typer.Option(
            envvar="STYLEGRPO_COMPLETENESS_URL",
            help="URL of the completeness service.",
            rich_help_panel=SERVICES,
        ),
    ] = default_url("completeness"),
    style_profile: Annotated[
        str, typer.Option(help="Style service profile.", rich_help_panel=SERVICES)
    ] = "mark-twain",
    style_reference_column: Annotated[
        str | None,
        typer.Option(
            help="Score style against this prompt column (e.g. sample_text) instead.",
            rich_help_panel=SERVICES,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="STYLEGRPO_API_KEY",
            help="API key the services ask for (their `*_API_KEY`).",
            rich_help_panel=SERVICES,
        ),
    ] = None,
) -> None:
    """Generate for the test prompts with one or two models, score with the three rewards and
    a stylometric measure; write OUT/results/ (results.csv, results.md, plots)."""
    from shared.logging import configure_logging
    from trainer.evaluation.generation import SamplingSettings
    from trainer.evaluation.run import EvaluationSetup, ModelToEvaluate, evaluate
    from trainer.evaluation.scoring import EvaluationError
    from trainer.evaluation.server_generator import GenerationServerError
    from trainer.grpo.reward_config import default_rewards

    configure_logging("warning")
    try:
        sampling = SamplingSettings(
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            min_p=min_p, repetition_penalty=repetition_penalty, seed=seed,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    urls = {"style": style_url, "content": judge_url, "completeness": completeness_url}
    rewards = default_rewards()
    for spec in rewards:
        spec.url, spec.api_key, spec.timeout_s = urls[spec.name], api_key, 600.0
    rewards[0].profile = style_profile
    rewards[0].reference_column = style_reference_column
    models = [ModelToEvaluate(name or default_name(model), model, sampling)]
    if model2 is not None:
        models.append(ModelToEvaluate(name2 or default_name(model2), model2, sampling))
    setup = EvaluationSetup(
        prompts=prompts, out=out, rewards=rewards, books=books, author=author, split=split,
        limit=limit, num_samples=num_samples, batch_size=batch_size, cache_dir=cache_dir,
        server_url=vllm_url, server_api_key=vllm_api_key, author_lm=author_lm,
    )  # fmt: skip
    try:
        results = evaluate(models, setup)
    except (EvaluationError, GenerationServerError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo((results / "results.md").read_text(encoding="utf-8"))
    typer.echo(f"results: {results}")


def default_name(model: str) -> str:
    """A model's name in the results: the last part of its id or path.

    >>> default_name("embedded:smollm2-135m-instruct"), default_name("runs/grpo-twain/final/")
    ('smollm2-135m-instruct', 'final')
    """
    return Path(model.split(":", 1)[-1]).name
