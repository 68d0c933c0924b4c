"""`stylegrpo data ...`: books to datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainer.data.gutenberg_settings import GutenbergSettings
from trainer.evaluation.generation_options import (
    CACHE_DIR,
    BatchSize,
    ModelCacheDir,
    SamplingFloat,
    SamplingInt,
    VllmApiKey,
    VllmUrl,
)

data_app = typer.Typer(no_args_is_help=True, help="Data: books to datasets.")

PushToHub = Annotated[
    str | None,
    typer.Option(
        "--push-to-hub",
        metavar="REPO",
        help="Also upload the dataset to this Hub dataset repo (private; needs HF_TOKEN).",
    ),
]


def hub_token_or_exit(repo: str | None) -> str | None:
    """The Hub token when a push is asked for, checked before any work; exit 1 without one."""
    if repo is None:
        return None
    from trainer.data.hub import HubPushError, hub_token

    try:
        return hub_token()
    except HubPushError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def push_or_exit(folder: Path, repo: str | None, token: str | None) -> None:
    """Push the built folder when asked; a failed push exits 1 and leaves the folder in place."""
    if repo is None or token is None:
        return
    from trainer.data.hub import HubPushError, push_dataset

    try:
        typer.echo(f"pushed -> {push_dataset(folder, repo, token)}")
    except HubPushError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@data_app.command("chunk")
def data_chunk(
    books: Annotated[Path, typer.Option(help="Folder of AUTHOR--TITLE.txt books.")],
    out: Annotated[Path, typer.Option(help="Where to write the dataset folder.")],
    max_words: Annotated[int, typer.Option(min=1, help="Most words per chunk.")] = 1500,
    push_to_hub: PushToHub = None,
) -> None:
    """Clean books (Gutenberg header, licence, notes, headings) and chunk them by paragraph."""
    from trainer.data.chunks import build_chunks

    token = hub_token_or_exit(push_to_hub)
    try:
        summary = build_chunks(books, out, max_words)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{summary['chunks']} chunks from {summary['books']} books -> {out}")
    push_or_exit(out, push_to_hub, token)


@data_app.command("build-grpo-prompts")
def data_grpo_prompts(
    chunks: Annotated[Path, typer.Option(help="A folder written by `data chunk`.")],
    out: Annotated[Path, typer.Option(help="Where to write the prompt dataset.")],
    author: Annotated[str, typer.Option(help="Author id in the chunks.")] = "mark-twain",
    author_name: Annotated[str, typer.Option(help="Author as the prompt names it.")] = "Mark Twain",
    chunks_per_plot: Annotated[int, typer.Option(min=1)] = 8,
    test_plots: Annotated[int, typer.Option(min=1)] = 2,
    push_to_hub: PushToHub = None,
) -> None:
    """Plot prompts x the author's reference chunks (`prompt`, `sample_text`), split by plot."""
    from trainer.data.grpo_prompts import build_grpo_prompts

    token = hub_token_or_exit(push_to_hub)
    try:
        sizes = build_grpo_prompts(
            chunks, out, author=author, author_name=author_name,
            chunks_per_plot=chunks_per_plot, test_plots=test_plots,
        )  # fmt: skip
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"train {sizes['train']} rows, test {sizes['test']} rows -> {out}")
    push_or_exit(out, push_to_hub, token)


@data_app.command("download")
def data_download(
    out: Annotated[
        Path, typer.Option(help="Books folder to fill: AUTHOR--TITLE.txt files and manifest.csv.")
    ] = Path("data/books"),
    author: Annotated[
        str | None, typer.Option(help='Author to find in the catalog, e.g. "Mark Twain".')
    ] = None,
    ids: Annotated[str | None, typer.Option(help="Gutenberg ebook numbers, e.g. 76,74.")] = None,
    from_folder: Annotated[
        Path | None, typer.Option(help="Copy this folder of AUTHOR--TITLE.txt books instead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most books to take with --author.")] = 20,
    mirror: Annotated[
        str, typer.Option(envvar="STYLEGRPO_GUTENBERG_MIRROR", help="Gutenberg mirror base URL.")
    ] = GutenbergSettings.mirror,
    catalog: Annotated[
        str, typer.Option(envvar="STYLEGRPO_GUTENBERG_CATALOG", help="Gutendex-style API URL.")
    ] = GutenbergSettings.catalog,
    delay: Annotated[
        float, typer.Option(min=0, help="Seconds to pause between downloads.")
    ] = GutenbergSettings.delay_s,
    retries: Annotated[
        int, typer.Option(min=0, help="Retries per request on network errors, 429 and 5xx.")
    ] = GutenbergSettings.max_retries,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for a response.")
    ] = GutenbergSettings.timeout_s,
) -> None:
    """Download Project Gutenberg books by --author or --ids, or copy --from-folder."""
    from trainer.data.gutenberg import (
        copy_local_books,
        download_author,
        download_ids,
        parse_ebook_ids,
    )
    from trainer.data.gutendex import CatalogError

    if sum(option is not None for option in (author, ids, from_folder)) != 1:
        raise typer.BadParameter("give exactly one of --author, --ids or --from-folder")
    try:
        ebook_ids = parse_ebook_ids(ids) if ids is not None else []
        settings = GutenbergSettings(
            mirror=mirror, catalog=catalog, delay_s=delay, timeout_s=timeout, max_retries=retries
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        if from_folder is not None:
            report = copy_local_books(from_folder, out)
        elif author is not None:
            report = download_author(author, limit, out, settings)
        else:
            report = download_ids(ebook_ids, out, settings)
    except (CatalogError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for key, reason in report.failed.items():
        typer.echo(f"failed {key}: {reason}", err=True)
    words = sum(entry.words for entry in report.written + report.kept)
    typer.echo(
        f"{len(report.written)} books written, {len(report.kept)} already there, "
        f"{len(report.failed)} failed; {words} words -> {out}"
    )
    if report.books == 0:
        typer.echo("error: no book was downloaded; see the failures above", err=True)
        raise typer.Exit(1)


@data_app.command("build-sft")
def data_build_sft(
    source: Annotated[
        str, typer.Option(help="JSONL file, `datasets` folder, `data chunk` folder or Hub id.")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the SFT dataset folder.")],
    tokenizer: Annotated[
        str | None, typer.Option(help="Also write a `text` column in this model's chat format.")
    ] = None,
    test_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Share held out for test, by whole prompts.")
    ] = 0.1,
    prompt_field: Annotated[str, typer.Option(help="The source's prompt field.")] = "prompt",
    story_field: Annotated[
        str | None, typer.Option(help="The source's story field (default: story, else completion).")
    ] = None,
    chunks_author: Annotated[
        str | None, typer.Option(help="With a `data chunk` folder: whose chunks to use.")
    ] = None,
    author_name: Annotated[str, typer.Option(help="Author as the prompt names it.")] = "Mark Twain",
    seed: Annotated[int, typer.Option(help="Seed of the train/test split.")] = 0,
    push_to_hub: PushToHub = None,
) -> None:
    """Prompt/completion records ending with `THE END.`, split into train and test by prompt."""
    from trainer.data.sft_records import build_sft_records
    from trainer.data.story_sources import StorySourceError

    token = hub_token_or_exit(push_to_hub)
    try:
        summary = build_sft_records(
            source, out, tokenizer=tokenizer, test_fraction=test_fraction,
            prompt_field=prompt_field, story_field=story_field, chunks_author=chunks_author,
            author_name=author_name, seed=seed,
        )  # fmt: skip
    except (StorySourceError, OSError) as exc:  # OSError: a tokenizer that cannot be loaded
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"train {summary['train']} records, test {summary['test']} records -> {out}")
    push_or_exit(out, push_to_hub, token)


@data_app.command("build-style-pairs")
def data_style_pairs(
    chunks: Annotated[Path, typer.Option(help="A folder written by `data chunk`.")],
    out: Annotated[Path, typer.Option(help="Where to write the pair dataset.")],
    negative_texts: Annotated[
        list[Path] | None,
        typer.Option(
            help="Generic LLM-written prose (JSONL with `text`), a negative author; repeatable."
        ),
    ] = None,
    min_words: Annotated[int, typer.Option(min=1, help="Fewest words per passage.")] = 220,
    max_words: Annotated[int, typer.Option(min=1, help="Most words per passage.")] = 420,
    ratios: Annotated[
        str, typer.Option(help="Fractions of sentences replaced in perturbed passages.")
    ] = "0.25,0.5,0.75",
    same_author_score: Annotated[float, typer.Option(help="Score of same-author pairs.")] = 1.0,
    perturbed_share: Annotated[float, typer.Option(help="Share of perturbed pairs.")] = 0.25,
    llm_negative_share: Annotated[
        float, typer.Option(help="Share of negatives against the LLM prose.")
    ] = 0.5,
    validation_fraction: Annotated[
        float, typer.Option(help="Share of books for validation.")
    ] = 0.15,
    test_fraction: Annotated[float, typer.Option(help="Share of books for test.")] = 0.15,
    max_train_pairs: Annotated[int, typer.Option(min=2)] = 20_000,
    max_eval_pairs: Annotated[
        int, typer.Option(min=2, help="Cap for validation and test.")
    ] = 2_000,
    perturbed_in_test: Annotated[
        bool, typer.Option(help="Also perturbed pairs in test (the original tests originals only).")
    ] = False,
    seed: Annotated[int, typer.Option()] = 0,
    push_to_hub: PushToHub = None,
) -> None:
    """Scored passage pairs (`sentence1`, `sentence2`, `score`) for the style encoder, by book."""
    from trainer.data.style_pairs import StylePairsSettings, build_style_pairs

    token = hub_token_or_exit(push_to_hub)
    try:
        settings = StylePairsSettings(
            min_words=min_words, max_words=max_words,
            replace_ratios=tuple(float(r) for r in ratios.split(",")),
            same_author_score=same_author_score, perturbed_share=perturbed_share,
            llm_negative_share=llm_negative_share, validation_fraction=validation_fraction,
            test_fraction=test_fraction, max_train_pairs=max_train_pairs,
            max_eval_pairs=max_eval_pairs, perturbed_in_test=perturbed_in_test, seed=seed,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        summary = build_style_pairs(chunks, negative_texts or [], out, settings)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    sizes = ", ".join(f"{name} {split['pairs']}" for name, split in summary["splits"].items())
    typer.echo(f"pairs: {sizes} -> {out}")
    push_or_exit(out, push_to_hub, token)


@data_app.command("policy-samples")
def data_policy_samples(
    model: Annotated[
        str,
        typer.Option(
            help="Hub id, folder or embedded:smollm2-135m-instruct; with --vllm-url, the "
            "server's model name."
        ),
    ],
    out: Annotated[Path, typer.Option(help="JSONL file to write (rerunning it resumes).")],
    prompts: Annotated[
        Path | None,
        typer.Option(
            help="A `data build-grpo-prompts` folder or a JSONL file with `prompt`; default: "
            "the built-in plot prompts."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Split file of a prompts folder.")] = "train",
    count: Annotated[int, typer.Option(min=1, help="Stories per prompt.")] = 8,
    limit: Annotated[int | None, typer.Option(min=1, help="Use the first N prompts.")] = None,
    author_name: Annotated[
        str, typer.Option(help="Author the built-in prompts name.")
    ] = "Mark Twain",
    story_words: Annotated[
        int, typer.Option(min=1, help="Length the built-in prompts ask for.")
    ] = 1500,
    batch_size: BatchSize = 8,
    vllm_url: VllmUrl = None,
    vllm_api_key: VllmApiKey = None,
    cache_dir: ModelCacheDir = CACHE_DIR,
    max_new_tokens: SamplingInt = 512,
    temperature: SamplingFloat = 0.9,
    top_p: SamplingFloat = 0.95,
    top_k: SamplingInt = 50,
    min_p: SamplingFloat = 0.02,
    repetition_penalty: SamplingFloat = 1.05,
    seed: SamplingInt = 0,
) -> None:
    """The policy's stories for the training prompts: negatives for the style service
    (`STYLE_POLICY_TEXTS`), one JSON line per story with its prompt and plot."""
    from trainer.data.policy_samples import PolicySampling, build_policy_samples
    from trainer.evaluation.generation import SamplingSettings, build_generator
    from trainer.evaluation.server_generator import GenerationServerError

    try:
        sampling = SamplingSettings(
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            min_p=min_p, repetition_penalty=repetition_penalty, seed=seed,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = PolicySampling(
        prompts=prompts, split=split, author_name=author_name, story_words=story_words,
        count=count, limit=limit, sampling=sampling,
    )  # fmt: skip
    generator = build_generator(
        model, sampling, batch_size=batch_size, cache_dir=cache_dir,
        server_url=vllm_url, server_api_key=vllm_api_key,
    )  # fmt: skip
    try:
        records = build_policy_samples(generator, settings, out)
    except (GenerationServerError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    words = sum(len(r["completion"].split()) for r in records) / max(len(records), 1)
    truncated = sum(r["truncated"] for r in records)
    typer.echo(
        f"{len(records)} stories ({words:.0f} words on average, {truncated} cut at "
        f"{max_new_tokens} tokens) -> {out}"
    )
