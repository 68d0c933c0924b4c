"""`stylegrpo score FILE`: a text through the style service, its score and weakest windows."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from shared.client import RewardClient, RewardServiceError
from shared.schemas import ScoreResponse, StyleDetails
from shared.settings import default_url

WEAKEST_WINDOWS = 3


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
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="STYLEGRPO_API_KEY", help="API key the service asks for (STYLE_API_KEY)."
        ),
    ] = None,
) -> None:
    """Score a text through the style service; print the score and the weakest windows."""
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
