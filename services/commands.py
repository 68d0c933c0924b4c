"""`stylegrpo serve NAME` and `python -m services NAME`: run reward services with uvicorn."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from services.common.server import ScorerLoadError, serve_all
from services.registry import SERVICES
from shared.logging import configure_logging
from shared.settings import SettingsError


def serve(
    name: Annotated[
        str, typer.Argument(help=f"Service to serve: {', '.join(sorted(SERVICES))}, or `all`.")
    ],
) -> None:
    """Serve a reward service (settings from its environment variables, e.g. STYLE_*)."""
    names = sorted(SERVICES) if name == "all" else [name]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise typer.BadParameter(
            f"unknown service {unknown[0]!r}; choose one of: {', '.join(sorted(SERVICES))}, all"
        )
    try:
        services = [SERVICES[n]() for n in names]
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(services[0][0].log_level)
    try:
        asyncio.run(serve_all(services))
    except ScorerLoadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def main(argv: list[str] | None = None) -> None:
    """`python -m services NAME`: serve one service, or `all` (the service images run this)."""
    app = typer.Typer(add_completion=False)
    app.command()(serve)
    app(argv, prog_name="python -m services")
