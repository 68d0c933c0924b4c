"""`stylegrpo score FILE`: a text through the style service, its score and weakest windows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from shared.client import RewardClient, RewardServiceError
from shared.schemas import ScoreResponse, StyleDetails
from shared.settings import default_url
from shared.text_files import UnreadableTextError, read_user_text

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
    try:
        text = read_user_text(file)
        references = [read_user_text(str(reference))] if reference else None
        client = RewardClient(url, api_key=api_key)
    except UnreadableTextError as exc:
        usage_error(str(exc))
    except ValueError as exc:  # the URL
        usage_error(f"--url: {exc}")

    async def request() -> ScoreResponse:
        async with client:
            return await client.score([text], profile=profile, references=references, details=True)

    try:
        response = asyncio.run(request())
    except RewardServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_style_result(text, response))


def usage_error(message: str) -> NoReturn:
    """End the command on a mistake of its caller's: one line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def format_style_result(text: str, response: ScoreResponse) -> str:
    """Human-readable score, why it was cut, coverage and the weakest windows of one text."""
    lines = [f"score {response.scores[0]:.3f}  ({response.service}, {response.model})"]
    if response.details:
        details = StyleDetails.model_validate(response.details[0])
        target = details.profile or "reference text"
        lines.append(
            f"against {target}; {len(details.windows)} windows, coverage {details.coverage:.2f}"
        )
        if details.reasons:
            lines.append("why the score is lower than its windows':")
            lines += [f"  - {reason}" for reason in details.reasons]
        weakest = sorted(details.windows, key=lambda w: w.score)[:WEAKEST_WINDOWS]
        if len(details.windows) > 1:
            cut = " (before the cuts above)" if details.reasons else ""
            lines.append(f"weakest windows{cut}:")
            for window in weakest:
                excerpt = " ".join(text[window.start : window.end].split())
                excerpt = excerpt[:100] + ("..." if len(excerpt) > 100 else "")
                lines.append(f"  {window.score:.3f}  chars {window.start}-{window.end}: {excerpt}")
    return "\n".join(lines)
