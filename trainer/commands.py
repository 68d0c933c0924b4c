"""`stylegrpo train ...`: the training stages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.logging import configure_logging

train_app = typer.Typer(
    no_args_is_help=True,
    help="Train: the style encoder (stage 1), SFT (stage 2), GRPO (stage 3).",
)


@train_app.command(
    "grpo", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def train_grpo(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="YAML run configuration.")] = None,
) -> None:
    """GRPO against the reward services; `--key value` after the options overrides the config."""
    from trainer.config import ConfigError, load_config
    from trainer.grpo import train
    from trainer.preflight import PreflightError
    from trainer.rewards import RewardServiceFailed

    configure_logging("info")
    try:
        final = train(load_config(config, list(ctx.args)))
    except (ConfigError, PreflightError, RewardServiceFailed) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"final model: {final}")


@train_app.command(
    "sft", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def train_sft_command(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="YAML run configuration.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint of the run.")
    ] = False,
) -> None:
    """SFT on prompt/completion stories; `--key value` after the options overrides the config."""
    from trainer.config import ConfigError
    from trainer.sft import SftDataError, train_sft
    from trainer.sft_config import load_sft_config

    configure_logging("info")
    overrides = list(ctx.args) + (["--resume", "true"] if resume else [])
    try:
        final = train_sft(load_sft_config(config, overrides))
    except (ConfigError, SftDataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"final model: {final}")


@train_app.command(
    "style-encoder", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
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
    from trainer.config import ConfigError
    from trainer.style_encoder import train_style_encoder
    from trainer.style_encoder_config import load_style_encoder_config
    from trainer.style_losses import PairsDataError

    configure_logging("info")
    overrides = list(ctx.args) + (["--resume", "true"] if resume else [])
    try:
        run_config = load_style_encoder_config(config, overrides)
        final = train_style_encoder(run_config)
    except (ConfigError, PairsDataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
    typer.echo(f"style encoder: {final}")
