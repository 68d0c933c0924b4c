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
