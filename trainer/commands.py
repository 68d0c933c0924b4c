"""`stylegrpo train ...` (the three training stages), `report` and `eval-authorship`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.logging import configure_logging

OVERRIDES = (
    "After the options, any --KEY VALUE overrides the config: --{section}.learning_rate 1e-5, "
    "--run_dir runs/x{more}. Every key, its default and meaning: docs/configuration.md."
)

train_app = typer.Typer(
    no_args_is_help=True,
    help="Train: the style encoder (stage 1), SFT (stage 2), GRPO (stage 3).",
)


@train_app.command(
    "grpo",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=OVERRIDES.format(section="grpo", more=", --rewards.0.url http://host:8001"),
)
def train_grpo(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="YAML run configuration.")] = None,
) -> None:
    """GRPO against the reward services; `--key value` after the options overrides the config."""
    from trainer.common.config_loading import ConfigError
    from trainer.grpo.config import load_config
    from trainer.grpo.preflight import PreflightError
    from trainer.grpo.rewards import RewardServiceFailed
    from trainer.grpo.training import train

    configure_logging("info")
    try:
        final = train(load_config(config, list(ctx.args)))
    except (ConfigError, PreflightError, RewardServiceFailed) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"final model: {final}")


@train_app.command(
    "sft",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=OVERRIDES.format(section="sft", more=", --lora.enabled true"),
)
def train_sft_command(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="YAML run configuration.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint of the run.")
    ] = False,
) -> None:
    """SFT on prompt/completion stories; `--key value` after the options overrides the config."""
    from trainer.common.config_loading import ConfigError
    from trainer.sft.config import load_sft_config
    from trainer.sft.training import SftDataError, train_sft

    configure_logging("info")
    overrides = list(ctx.args) + (["--resume", "true"] if resume else [])
    try:
        final = train_sft(load_sft_config(config, overrides))
    except (ConfigError, SftDataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"final model: {final}")


@train_app.command(
    "style-encoder",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=OVERRIDES.format(section="training", more=", --loss mnrl"),
)
def train_style_encoder_command(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="YAML run configuration.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint of the run.")
    ] = False,
) -> None:
    """Stage 1: fine-tune the style encoder on scored passage pairs; `--key value` after the
    options overrides the config."""
    from trainer.common.config_loading import ConfigError
    from trainer.style_encoder.config import load_style_encoder_config
    from trainer.style_encoder.losses import PairsDataError
    from trainer.style_encoder.training import train_style_encoder

    configure_logging("info")
    overrides = list(ctx.args) + (["--resume", "true"] if resume else [])
    try:
        run_config = load_style_encoder_config(config, overrides)
        final = train_style_encoder(run_config)
    except (ConfigError, PairsDataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"style encoder: {final}")


def report(run_dir: Annotated[Path, typer.Argument(help="A GRPO run directory.")]) -> None:
    """Write a run's report (plots and best/worst completions) into RUN_DIR/report/."""
    from trainer.grpo.report import write_report

    try:
        page = write_report(run_dir)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"report: {page}")


def eval_authorship(
    books: Annotated[Path, typer.Option(help="Folder of AUTHOR--TITLE.txt books.")],
    out: Annotated[Path, typer.Option(help="Where to write authorship.json/.md.")],
    negative_texts: Annotated[
        Path | None, typer.Option(help="LLM-written prose (.jsonl/.txt); a part is held out.")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="Sentence-transformer id/path, or `embedded` (repeat to compare; default "
            "embedded)."
        ),
    ] = None,
    author: Annotated[str, typer.Option(help="The author whose passages are positives.")] = (
        "mark-twain"
    ),
    held_out: Annotated[
        str, typer.Option(help="Comma-separated titles to hold out (default: 20% per author).")
    ] = "",
    seed: Annotated[int, typer.Option(help="Seed of the held-out choice.")] = 0,
    cache_dir: Annotated[Path | None, typer.Option(help="Profile/classifier cache.")] = None,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            help="Encoder backend (auto, torch, openvino, openvino-int8); repeat to compare, "
            "later ones against the first (default auto)."
        ),
    ] = None,
    stuffing_words: Annotated[
        str,
        typer.Option(
            help="Comma-separated words the stuffing attack inserts (default: the author's "
            "names and the words the author over-uses most in the held-out books)."
        ),
    ] = "",
    policy_texts: Annotated[
        list[Path] | None,
        typer.Option(
            help="The policy's stories (`data policy-samples` JSONL); a quarter of the prompts "
            "is held out and scored, the rest are the service's STYLE_POLICY_TEXTS. Repeatable."
        ),
    ] = None,
    policy_negatives: Annotated[
        bool,
        typer.Option(
            help="Train the service on the policy stories of the prompts not held out; "
            "--no-policy-negatives scores the held-out ones against a service that never saw any."
        ),
    ] = True,
) -> None:
    """Stage 1's evaluator: ROC AUC of the style score on books it never saw, encoder alone and
    with the n-gram classifier, against other authors, LLM-written prose and the policy's own
    stories for prompts it never saw; dialect, topic and typography attacks; short texts."""
    from trainer.style_encoder.authorship_eval import AuthorshipTest, evaluate_authorship

    configure_logging("info")
    test = AuthorshipTest(
        author=author,
        held_out_titles=tuple(t.strip() for t in held_out.split(",") if t.strip()),
        seed=seed,
        stuffing_words=tuple(w.strip() for w in stuffing_words.split(",") if w.strip()),
        policy_negatives=policy_negatives,
    )
    try:
        evaluate_authorship(
            books,
            negative_texts,
            out,
            models=[None if m == "embedded" else m for m in model] if model else [None],
            test=test,
            cache_dir=cache_dir,
            backends=tuple(backend) if backend else ("auto",),
            policy_texts=policy_texts,
        )
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo((out / "authorship.md").read_text(encoding="utf-8"))
