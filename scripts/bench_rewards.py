"""Reward step time: the three reward services called concurrently vs each alone.

Starts style, judge and completeness as separate processes on 127.0.0.1, builds the trainer's
reward functions, and times one GRPO-sized batch (prompts x completions) per phase, phases
interleaved over rounds (median). Goal on a machine with a device per service: concurrent <=
1.15x the slowest alone. On a 2-core CPU the services share the cores, so the CPU-bound ones add.
Usage: python scripts/bench_rewards.py --corpus ../shared/corpus [--completions 16 --words 300]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from services.launcher import running_service
from trainer.grpo.reward_config import default_rewards
from trainer.grpo.rewards import build_reward_function

PROMPT = [{"role": "user", "content": "Write a story about a raft in the style of Mark Twain."}]


def main() -> None:
    """Time each reward alone and all three together, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--completions", type=int, default=16)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    completions = sample_completions(books, args.completions, args.words)
    env = {
        name: "warning" for name in ("STYLE_LOG_LEVEL", "JUDGE_LOG_LEVEL", "COMPLETENESS_LOG_LEVEL")
    }
    env["STYLE_BOOKS_DIR"] = str(books)
    env["JUDGE_CACHE_SIZE"] = "0"  # every phase judges the same texts: measure, do not recall
    logs = Path(tempfile.gettempdir())
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(
                running_service(name, env, log_path=logs / f"stylegrpo-bench-{name}.log")
            )
            for name in ("style", "judge", "completeness")
        }
        rates = asyncio.run(measure(urls, completions, args.rounds))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\nseconds per batch of {len(completions)} completions of ~{args.words} words (median)")
    for name, value in median.items():
        print(f"  {name:24s} {value:7.2f}")
    slowest = max(v for k, v in median.items() if k != "all three concurrently")
    print(
        f"concurrent / slowest alone = {median['all three concurrently'] / slowest:.2f} "
        "(goal <= 1.15 with a device per service)"
    )


async def measure(
    urls: dict[str, str], completions: list[Any], rounds: int
) -> dict[str, list[float]]:
    specs = default_rewards()
    for spec in specs:
        spec.url = urls[spec.service]
    functions = {spec.name: build_reward_function(spec)[0] for spec in specs}
    prompts = [PROMPT] * len(completions)

    async def call(names: list[str]) -> None:
        await asyncio.gather(
            *(functions[n](prompts=prompts, completions=completions) for n in names)
        )

    phases = {f"{name} alone": [name] for name in functions}
    phases["all three concurrently"] = list(functions)
    await call(list(functions))  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in phases}
    for round_index in range(rounds):
        for name, names in phases.items():
            started = time.perf_counter()
            await call(names)
            seconds[name].append(time.perf_counter() - started)
        summary = ", ".join(f"{k} {v[-1]:.2f}s" for k, v in seconds.items())
        print(f"round {round_index + 1}: {summary}", flush=True)
    return seconds


def sample_completions(books: Path, count: int, words: int) -> list[Any]:
    """Book passages dressed as conversational completions ending with `THE END.`."""
    sources = sorted(books.glob("*--*.txt"))
    completions = []
    for i in range(count):
        tokens = re.findall(r"\S+\s*", sources[i % len(sources)].read_text(encoding="utf-8"))
        start = len(tokens) // 3 + i * words
        text = "".join(tokens[start : start + words]).strip() + "\n\nTHE END."
        completions.append([{"role": "assistant", "content": text}])
    return completions


if __name__ == "__main__":
    main()
