"""Style-service throughput per encoder backend through HTTP, against in-process PyTorch.

Measured in one run on this machine, phases interleaved over several rounds (median reported):
  in-process          `SentenceTransformer.encode` (PyTorch fp32, batch 32) of exactly the windows
                      the service embeds: what a user would write by hand
  http BACKEND 1xN    one client sending one request of N texts, to a service on BACKEND
  http BACKEND Nx1    N concurrent clients sending one text each
Then: the padding share of the encoder's batches (arrival order, sorted by characters as
`encode` does, token budget), and how far each backend's scores are from the torch backend's on
passages of every author in the corpus.
Usage: python scripts/bench_style.py --corpus ../shared/corpus [--texts 16 --words 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from benchmarking import interleaved_rounds

from services.launcher import running_service
from services.style.encoding.encoder import WindowEncoder
from services.style.encoding.token_batches import count_batches, padding_fraction, plan_batches
from services.style.encoding.windows import split_windows
from services.style.settings import StyleSettings
from shared.client import RewardClient

IN_PROCESS = "in-process encode (torch fp32)"
BACKENDS = ("torch", "openvino", "openvino-int8")
DEFAULTS = {name: field.default for name, field in StyleSettings.model_fields.items()}


def main() -> None:
    """Start one service per backend, run every phase each round, print texts/s and ratios."""
    args = parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    texts = sample_texts(books, "mark-twain", args.texts, args.words)
    env = {"STYLE_BOOKS_DIR": str(books), "STYLE_LOG_LEVEL": "warning"}
    negatives = args.corpus / "llm-generic-paragraphs.jsonl"
    if negatives.is_file():
        env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    encoder = WindowEncoder(None, device="cpu", batch_size=DEFAULTS["encode_batch_size"])
    windows = service_windows(encoder, texts)
    print(
        f"{len(texts)} texts of {args.words} words -> {len(windows)} windows of <= "
        f"{encoder.window_tokens} tokens; {args.rounds} rounds; torch threads {torch_threads()}"
    )
    report_padding(encoder, windows)
    with ExitStack() as stack:
        urls = {}
        for backend in args.backends:
            log = Path(tempfile.gettempdir()) / f"stylegrpo-bench-style-{backend}.log"
            print(f"starting the style service on {backend} (log: {log}) ...", flush=True)
            backend_env = {**env, "STYLE_BACKEND": backend}
            urls[backend] = stack.enter_context(running_service("style", backend_env, log_path=log))
        rates = asyncio.run(measure(urls, encoder, windows, texts, args.rounds))
        mixed = [t for author in authors(books) for t in sample_texts(books, author, 8, 300)]
        scores = asyncio.run(score_each(urls, mixed))
    median = {name: statistics.median(values) for name, values in rates.items()}
    baseline = median[IN_PROCESS]
    print("\ntexts/s (median)                        texts/s   x in-process")
    for name, value in median.items():
        print(f"  {name:36s} {value:7.2f}   {value / baseline:6.3f}")
    if "torch" in scores:
        print(
            f"\nscores of {len(mixed)} passages of 300 words (every author), vs the torch backend"
        )
        for backend, values in scores.items():
            gap = np.abs(np.array(values) - np.array(scores["torch"]))
            print(f"  {backend:14s} max |diff| {gap.max():.4f}   mean |diff| {gap.mean():.5f}")


def service_windows(encoder: WindowEncoder, texts: list[str]) -> list[str]:
    """The windows the service cuts these texts into (its default overlap)."""
    return [
        text[w.start : w.end]
        for text in texts
        for w in split_windows(
            text,
            encoder.tokenizer,
            window_tokens=encoder.window_tokens,
            overlap_tokens=DEFAULTS["window_overlap_tokens"],
        ).windows
    ]


def report_padding(encoder: WindowEncoder, windows: list[str]) -> None:
    """Padding share of three ways to batch the same windows."""
    lengths = encoder.token_lengths(windows)
    size = DEFAULTS["encode_batch_size"]
    by_chars = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
    char_batches = [by_chars[i : i + size] for i in range(0, len(windows), size)]
    budget = DEFAULTS["encode_batch_tokens"]
    print("padding share of the encoder's token slots")
    for name, batches in {
        f"batches of {size}, arrival order": count_batches(len(windows), size=size),
        f"batches of {size}, sorted by characters (encode)": char_batches,
        f"<= {budget} tokens, sorted by tokens (service)": plan_batches(
            lengths, max_tokens=budget, max_size=size
        ),
    }.items():
        print(f"  {name:50s} {padding_fraction(lengths, batches):.3f}")


async def measure(
    urls: dict[str, str], encoder: WindowEncoder, windows: list[str], texts: list[str], rounds: int
) -> dict[str, list[float]]:
    """Texts/s of each phase in each round; clients are created and warmed up beforehand."""
    clients = {b: [RewardClient(url, max_batch=len(texts))] for b, url in urls.items()}
    for backend, url in urls.items():
        clients[backend] += [RewardClient(url) for _ in texts]

    async def in_process() -> None:
        encoder.model.encode(windows, batch_size=DEFAULTS["encode_batch_size"])

    def http_one(backend: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await clients[backend][0].score(texts)

        return run

    def http_many(backend: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            many = clients[backend][1:]
            await asyncio.gather(*(c.score([t]) for c, t in zip(many, texts, strict=True)))

        return run

    phases: dict[str, Callable[[], Awaitable[None]]] = {IN_PROCESS: in_process}
    for backend in urls:
        phases[f"http {backend} 1x{len(texts)}"] = http_one(backend)
        phases[f"http {backend} {len(texts)}x1"] = http_many(backend)
    encoder.model.encode(windows[:8])
    everyone = [c for group in clients.values() for c in group]
    await asyncio.gather(*(c.score(["Warm-up."]) for c in everyone))
    try:
        rates = await interleaved_rounds(phases, rounds=rounds, items=len(texts))
    finally:
        await asyncio.gather(*(c.aclose() for c in everyone))
    return rates


async def score_each(urls: dict[str, str], texts: list[str]) -> dict[str, list[float]]:
    """Each backend's scores of `texts`."""
    scores = {}
    for backend, url in urls.items():
        client = RewardClient(url, max_batch=len(texts))
        try:
            scores[backend] = (await client.score(texts)).scores
        finally:
            await client.aclose()
    return scores


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=16)
    parser.add_argument("--words", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--backends", type=lambda s: s.split(","), default=list(BACKENDS), help="comma-separated"
    )
    return parser.parse_args()


def authors(books: Path) -> list[str]:
    return sorted({book.name.split("--")[0] for book in books.glob("*--*.txt")})


def sample_texts(books: Path, author: str, count: int, words: int) -> list[str]:
    """`count` passages of `words` words, taken in turn from each of the author's books."""
    sources = sorted(books.glob(f"{author}--*.txt")) or sorted(books.glob("*.txt"))
    texts = []
    for i in range(count):
        tokens = re.findall(r"\S+\s*", sources[i % len(sources)].read_text(encoding="utf-8"))
        start = (len(tokens) // (count + 2)) * (i // len(sources) + 1)
        texts.append("".join(tokens[start : start + words]))
    return texts


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
