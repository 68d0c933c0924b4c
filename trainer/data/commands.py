"""`stylegrpo data ...`: books to datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

data_app = typer.Typer(no_args_is_help=True, help="Data: books to datasets.")


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


@data_app.command("build-grpo-prompts")
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
