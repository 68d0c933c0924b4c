"""Completeness-service throughput through HTTP against in-process scoring of the same texts.

Measured in one run on this machine, phases interleaved over several rounds (median reported):
  in-process   `assess()` of every text in this process (no HTTP, no JSON)
  http 1       `RewardClient` sending batches of 64, one request in flight
  http 4       the same with 4 requests in flight (the client's default)
The texts are synthesised 1,500-word stories ending with `THE END.`, so no corpus is needed.
Usage: python scripts/bench_completeness.py [--texts 2048 --words 1500 --batch 64 --rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarking import interleaved_rounds

from services.completeness.assessment import assess
from services.completeness.settings import CompletenessSettings
from services.launcher import running_service
from shared.client import RewardClient

IN_PROCESS = "in-process assess()"
HTTP_SERIAL = "http, 1 batch in flight"
HTTP_CONCURRENT = "http, 4 batches in flight"
GOAL_TEXTS_PER_S = 2000
# Contractions and compounds included, so the tokenizer meets what prose gives it.
VOCABULARY = (
    "the river boat old man boy town night water raft judge widow money cave island fog "
    "said went saw knew thought looked came took heard told found began seemed wanted "
    "quiet muddy long dark good bad little big sudden lonesome well-known half-asleep "
    "don't couldn't wasn't I'd we'd it's o'clock and but so then because when while after "
    "before along around under over into across through behind beside toward upon"
)


def main() -> None:
    """Run every phase for each round and print texts/s against the goal."""
    args = parse_args()
    texts = synthesise_texts(args.texts, args.words)
    env = {"COMPLETENESS_LOG_LEVEL": "warning"}
    log = Path(tempfile.gettempdir()) / "stylegrpo-bench-completeness.log"
    print(f"starting the completeness service (log: {log}) ...", flush=True)
    with running_service("completeness", env, log_path=log) as url:
        rates = asyncio.run(measure(url, texts, args.batch, args.rounds))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print("\ntexts/s (median)")
    for name, value in median.items():
        print(f"  {name:28s} {value:8.0f}")
    best_http = max(median[HTTP_SERIAL], median[HTTP_CONCURRENT])
    print(f"http / in-process = {best_http / median[IN_PROCESS]:.3f}")
    print(f"http texts/s = {best_http:.0f}   (goal >= {GOAL_TEXTS_PER_S})")


async def measure(url: str, texts: list[str], batch: int, rounds: int) -> dict[str, list[float]]:
    """Texts/s of each phase in each round; clients are created and warmed up beforehand."""
    settings = CompletenessSettings()
    length = assess(texts[0], settings).words
    print(f"{len(texts)} texts of {length} words, batches of {batch}; {rounds} rounds")
    serial = RewardClient(url, max_batch=batch, max_concurrency=1)
    concurrent = RewardClient(url, max_batch=batch, max_concurrency=4)

    async def in_process() -> None:
        for text in texts:
            assess(text, settings)

    async def http_serial() -> None:
        await serial.score(texts)

    async def http_concurrent() -> None:
        await concurrent.score(texts)

    phases: dict[str, Callable[[], Awaitable[None]]] = {
        IN_PROCESS: in_process,
        HTTP_SERIAL: http_serial,
        HTTP_CONCURRENT: http_concurrent,
    }
    await asyncio.gather(serial.score(texts[:batch]), concurrent.score(texts[:batch]))
    try:
        rates = await interleaved_rounds(phases, rounds=rounds, items=len(texts), digits=0)
    finally:
        await asyncio.gather(serial.aclose(), concurrent.aclose())
    return rates


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--words", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def synthesise_texts(count: int, length: int) -> list[str]:
    """`count` different stories of `length` words, each ending with a `THE END.` line."""
    vocabulary = VOCABULARY.split()
    return [synthesise_story(random.Random(seed), vocabulary, length) for seed in range(count)]


def synthesise_story(rng: random.Random, vocabulary: list[str], length: int) -> str:
    """One story of exactly `length` words drawn from `vocabulary`."""
    paragraphs, sentences, written = [], [], 0
    while written < length:
        size = min(rng.randint(6, 24), length - written)
        sentence = " ".join(rng.choices(vocabulary, k=size))
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice(".!?."))
        written += size
        if len(sentences) == 5 or written == length:
            paragraphs.append(" ".join(sentences))
            sentences = []
    return "\n\n".join(paragraphs) + "\n\nTHE END.\n"


if __name__ == "__main__":
    main()
