"""`stylegrpo`: serve the reward services, score texts, build data, train and evaluate."""

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
from trainer.commands import train_app
from trainer.data.commands import data_app
from trainer.evaluation.commands import eval_command

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")
app.command("eval")(eval_command)

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


@app.command("eval-authorship")
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
    from trainer.authorship_eval import AuthorshipTest, evaluate_authorship

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
