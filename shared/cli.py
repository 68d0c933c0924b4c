"""`stylegrpo`: serve the reward services and score texts through them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from shared.logging import configure_logging
from shared.schemas import ScoreResponse, StyleDetails
from shared.settings import default_url

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

WEAKEST_WINDOWS = 3


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="Service to serve, or `all`.")],
) -> None:
    """Serve a reward service (settings from its environment variables, e.g. STYLE_*)."""
    from services.common.server import ScorerLoadError, serve_all
    from services.registry import SERVICES
    from shared.settings import SettingsError

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


@app.command()
def score(
    file: Annotated[str, typer.Argument(help="Text file to score, or `-` for stdin.")] = "-",
    url: Annotated[
        str, typer.Option(envvar="STYLEGRPO_STYLE_URL", help="Style service URL.")
    ] = default_url("style"),
    profile: Annotated[
        str | None, typer.Option(help="Author profile (default: the service's).")
    ] = None,
    reference: Annotated[
        Path | None, typer.Option(help="Score against this reference text instead.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="STYLEGRPO_API_KEY")] = None,
) -> None:
    """Score a text through the style service; print the score and the weakest windows."""
    from shared.client import RewardClient, RewardServiceError

    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    references = [reference.read_text(encoding="utf-8")] if reference else None

    async def request() -> ScoreResponse:
        async with RewardClient(url, api_key=api_key) as client:
            return await client.score([text], profile=profile, references=references, details=True)

    try:
        response = asyncio.run(request())
    except RewardServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_style_result(text, response))


train_app = typer.Typer(no_args_is_help=True, help="Train: GRPO against the reward services.")
app.add_typer(train_app, name="train")


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


data_app = typer.Typer(no_args_is_help=True, help="Data: books to datasets.")
app.add_typer(data_app, name="data")


@data_app.command("chunk")
def data_chunk(
    books: Annotated[Path, typer.Option(help="Folder of AUTHOR--TITLE.txt books.")],
    out: Annotated[Path, typer.Option(help="Where to write the dataset folder.")],
    max_words: Annotated[int, typer.Option(min=1, help="Most words per chunk.")] = 1500,
) -> None:
    """Clean books (Gutenberg header, licence, notes, headings) and chunk them by paragraph."""
    from trainer.data.chunks import build_chunks

    try:
        summary = build_chunks(books, out, max_words)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{summary['chunks']} chunks from {summary['books']} books -> {out}")


@data_app.command("grpo-prompts")
def data_grpo_prompts(
    chunks: Annotated[Path, typer.Option(help="A folder written by `data chunk`.")],
    out: Annotated[Path, typer.Option(help="Where to write the prompt dataset.")],
    author: Annotated[str, typer.Option(help="Author id in the chunks.")] = "mark-twain",
    author_name: Annotated[str, typer.Option(help="Author as the prompt names it.")] = "Mark Twain",
    chunks_per_plot: Annotated[int, typer.Option(min=1)] = 8,
    test_plots: Annotated[int, typer.Option(min=1)] = 2,
) -> None:
    """Plot prompts x the author's reference chunks (`prompt`, `sample_text`), split by plot."""
    from trainer.data.grpo_prompts import build_grpo_prompts

    try:
        sizes = build_grpo_prompts(
            chunks, out, author=author, author_name=author_name,
            chunks_per_plot=chunks_per_plot, test_plots=test_plots,
        )  # fmt: skip
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"train {sizes['train']} rows, test {sizes['test']} rows -> {out}")


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A GRPO run directory.")]) -> None:
    """Write a run's report (plots and best/worst completions) into RUN_DIR/report/."""
    from trainer.report import write_report

    try:
        page = write_report(run_dir)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"report: {page}")


def format_style_result(text: str, response: ScoreResponse) -> str:
    """Human-readable score, coverage and the weakest windows of one scored text."""
    lines = [f"score {response.scores[0]:.3f}  ({response.service}, {response.model})"]
    if response.details:
        details = StyleDetails.model_validate(response.details[0])
        target = details.profile or "reference text"
        lines.append(
            f"against {target}; {len(details.windows)} windows, coverage {details.coverage:.2f}"
        )
        weakest = sorted(details.windows, key=lambda w: w.score)[:WEAKEST_WINDOWS]
        if len(details.windows) > 1:
            lines.append("weakest windows:")
            for window in weakest:
                excerpt = " ".join(text[window.start : window.end].split())
                excerpt = excerpt[:100] + ("..." if len(excerpt) > 100 else "")
                lines.append(f"  {window.score:.3f}  chars {window.start}-{window.end}: {excerpt}")
    return "\n".join(lines)


def main() -> None:
    """Entry point of the `stylegrpo` script."""
    app(prog_name=os.path.basename(sys.argv[0]) or "stylegrpo")


if __name__ == "__main__":
    main()
