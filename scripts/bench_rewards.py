"""Reward step time: the three reward services called concurrently vs each alone, and what the
HTTP hop costs against the same scorers called in this process.

Starts style, judge and completeness as separate processes on 127.0.0.1, builds the trainer's
reward functions, and times one GRPO-sized batch (prompts x completions) per phase, phases
interleaved over rounds (median). Goal on a machine with a device per service: concurrent <=
1.15x the slowest alone. On a 2-core CPU the services share the cores, so the CPU-bound ones add.
With `--in-process`, each service's scorer is also built in this process (the same settings) and
fed the same texts and prompts directly: the HTTP overhead of a reward is its reward function's
time over the scorer's (goal: <= 5%).
Usage: python scripts/bench_rewards.py --corpus ../shared/corpus [--completions 16 --words 300]
       [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from services.common.scorer import Scorer
from services.completeness.service import build_completeness_service
from services.judge.service import build_judge_service
from services.launcher import running_service
from services.style.service import build_style_service
from shared.schemas import ScoreRequest
from trainer.grpo.reward_config import default_rewards
from trainer.grpo.rewards import build_reward_function, completion_text, prompt_text

PROMPT = [{"role": "user", "content": "Write a story about a raft in the style of Mark Twain."}]


def main() -> None:
    """Time each reward alone and all three together, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--completions", type=int, default=16)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--in-process", action="store_true", help="also time each scorer without HTTP"
    )
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
        scorers = in_process_scorers(books) if args.in_process else {}
        rates = asyncio.run(measure(urls, completions, args.rounds, scorers))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\nseconds per batch of {len(completions)} completions of ~{args.words} words (median)")
    for name, value in median.items():
        print(f"  {name:24s} {value:7.3f}")
    slowest = max(v for k, v in median.items() if k.endswith(" alone"))
    print(
        f"concurrent / slowest alone = {median['all three concurrently'] / slowest:.2f} "
        "(goal <= 1.15 with a device per service)"
    )
    for reward in scorers:
        http, direct = median[f"{reward} alone"], median[f"{reward} in-process"]
        print(
            f"HTTP overhead of {reward}: {(http - direct) * 1000:+.0f} ms a batch, "
            f"{(http - direct) / direct:+.1%} of the scorer's time (goal <= 5%)"
        )


def in_process_scorers(books: Path) -> dict[str, Scorer]:
    """Each reward's scorer in this process, loaded with the services' settings."""
    print("loading the three scorers in this process as well ...", flush=True)
    scorers: dict[str, Scorer] = {
        "style": build_style_service(books_dir=books)[1],
        "content": build_judge_service(cache_size=0)[1],
        "completeness": build_completeness_service()[1],
    }
    for scorer in scorers.values():
        scorer.load()
    return scorers


async def measure(
    urls: dict[str, str], completions: list[Any], rounds: int, scorers: dict[str, Scorer]
) -> dict[str, list[float]]:
    specs = default_rewards()
    for spec in specs:
        spec.url = urls[spec.service]
    functions = {spec.name: build_reward_function(spec)[0] for spec in specs}
    prompts = [PROMPT] * len(completions)
    request = ScoreRequest(
        texts=[completion_text(c) for c in completions],
        prompts=[prompt_text(p) for p in prompts],
    )

    async def call(names: list[str]) -> None:
        await asyncio.gather(
            *(functions[n](prompts=prompts, completions=completions) for n in names)
        )

    async def direct(name: str) -> None:
        await scorers[name].score(request)

    phases: dict[str, Callable[[], Awaitable[None]]] = {}
    for name in functions:
        phases[f"{name} alone"] = partial(call, [name])
        if name in scorers:
            phases[f"{name} in-process"] = partial(direct, name)
    phases["all three concurrently"] = partial(call, list(functions))
    for phase in phases.values():  # warm-up
        await phase()
    seconds: dict[str, list[float]] = {name: [] for name in phases}
    for round_index in range(rounds):
        for name, phase in phases.items():
            started = time.perf_counter()
            await phase()
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
