"""Style-service throughput through HTTP against in-process `SentenceTransformer.encode`.

Measured in one run on this machine, phases interleaved over several rounds (median reported):
  in-process  encode() of exactly the windows the service embeds, batch 32
  http 1x16   one client sending one request of 16 texts
  http 16x1   16 concurrent clients sending one text each
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
from pathlib import Path

from benchmarking import interleaved_rounds

from services.launcher import running_service
from services.style.encoder import WindowEncoder
from services.style.settings import StyleSettings
from services.style.windows import split_windows
from shared.client import RewardClient

IN_PROCESS = "in-process encode"
HTTP_ONE = "http 1 client x N texts"
HTTP_MANY = "http N clients x 1 text"


def main() -> None:
    """Run every phase for each round and print texts/s and the ratios the goals are set on."""
    args = parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    texts = sample_texts(books, args.texts, args.words)
    env = {"STYLE_BOOKS_DIR": str(books), "STYLE_LOG_LEVEL": "warning"}
    negatives = args.corpus / "llm-generic-paragraphs.jsonl"
    if negatives.is_file():
        env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    log = Path(tempfile.gettempdir()) / "stylegrpo-bench-style.log"
    print(f"starting the style service (log: {log}) ...", flush=True)
    with running_service("style", env, log_path=log) as url:
        rates = asyncio.run(measure(url, texts, args.rounds))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print("\ntexts/s (median)")
    for name, value in median.items():
        print(f"  {name:28s} {value:6.2f}")
    baseline = median[IN_PROCESS]
    one, many = median[HTTP_ONE], median[HTTP_MANY]
    print(f"http 1x{len(texts)} / in-process  = {one / baseline:.3f}   (goal >= 0.95)")
    print(f"http {len(texts)}x1 / in-process  = {many / baseline:.3f}")
    print(f"http {len(texts)}x1 / http 1x{len(texts)}   = {many / one:.3f}   (goal >= 0.95)")


async def measure(url: str, texts: list[str], rounds: int) -> dict[str, list[float]]:
    """Texts/s of each phase in each round; clients are created and warmed up beforehand."""
    defaults = {name: field.default for name, field in StyleSettings.model_fields.items()}
    encoder = WindowEncoder(None, device="cpu", batch_size=defaults["encode_batch_size"])
    windows = [
        text[w.start : w.end]
        for text in texts
        for w in split_windows(
            text,
            encoder.tokenizer,
            window_tokens=encoder.window_tokens,
            overlap_tokens=defaults["window_overlap_tokens"],
        ).windows
    ]
    print(
        f"{len(texts)} texts of {len(texts[0].split())} words -> {len(windows)} windows of <= "
        f"{encoder.window_tokens} tokens; {rounds} rounds; torch threads {torch_threads()}"
    )
    one = RewardClient(url, max_batch=len(texts))
    many = [RewardClient(url) for _ in texts]

    async def in_process() -> None:
        encoder.encode(windows)

    async def http_one() -> None:
        await one.score(texts)

    async def http_many() -> None:
        await asyncio.gather(*(c.score([t]) for c, t in zip(many, texts, strict=True)))

    phases: dict[str, Callable[[], Awaitable[None]]] = {
        IN_PROCESS: in_process,
        HTTP_ONE: http_one,
        HTTP_MANY: http_many,
    }
    encoder.encode(windows[:8])
    await asyncio.gather(*(c.score(["Warm-up."]) for c in [one, *many]))
    try:
        rates = await interleaved_rounds(phases, rounds=rounds, items=len(texts))
    finally:
        await asyncio.gather(*(c.aclose() for c in [one, *many]))
    return rates


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=16)
    parser.add_argument("--words", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def sample_texts(books: Path, count: int, words: int) -> list[str]:
    """`count` passages of `words` words, taken in turn from each Mark Twain book."""
    sources = sorted(books.glob("mark-twain--*.txt")) or sorted(books.glob("*.txt"))
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
