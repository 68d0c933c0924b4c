"""Load test of one reward service: N concurrent clients for T seconds.

Starts the service as a child process on 127.0.0.1 - or, with `--url`, loads a service that is
already running (a deployment, with `--api-key` where it asks for one) - has `--clients` clients
each send `/score` requests of `--texts` texts back to back for `--seconds` seconds (a 429 waits
its Retry-After, as the shared client does), then reports latency percentiles of the answered
requests, throughput, answers by HTTP status and, for a service it started, the peak resident
memory of its process.
Usage: python scripts/load_test.py [--service completeness|style] [--corpus ../shared/corpus]
       [--clients 16 --seconds 30 --texts 64 --words 1400]
       [--url http://host:8003 [--api-key KEY]]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.launcher import service_process

MAX_CLIENTS = 64
MAX_SECONDS = 600
RSS_SAMPLE_S = 0.1
# Words for synthetic texts when no corpus is given; completeness scores form, not meaning.
WORDS = [
    "the",
    "river",
    "boat",
    "raft",
    "town",
    "night",
    "judge",
    "money",
    "widow",
    "cave",
    "island",
    "fog",
    "morning",
]


@dataclass
class Tally:
    """What the clients saw: latency of each 200, answers by status, transport errors."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)


def main() -> None:
    """Start the service, run the load, print the report."""
    args = parse_args()
    env = {f"{args.service.upper()}_LOG_LEVEL": "warning"}
    if args.service == "style" and args.url is None:
        if args.corpus is None or not (args.corpus / "books").is_dir():
            sys.exit("the style service needs --corpus pointing at a folder with books/")
        env["STYLE_BOOKS_DIR"] = str(args.corpus / "books")
        negatives = args.corpus / "llm-generic-paragraphs.jsonl"
        if negatives.is_file():
            env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    texts = (
        corpus_texts(args.corpus / "books", args.texts, args.words)
        if args.corpus is not None
        else synthetic_texts(args.texts, args.words)
    )
    if args.url is not None:
        print(f"loading the running service at {args.url} ...", flush=True)
        tally, elapsed, rss = asyncio.run(run_load(args.url, None, texts, args))
        report(tally, elapsed, rss, args)
        return
    log = Path(tempfile.gettempdir()) / f"stylegrpo-load-{args.service}.log"
    print(f"starting the {args.service} service (log: {log}) ...", flush=True)
    with service_process(args.service, env, log_path=log) as (url, process):
        tally, elapsed, rss = asyncio.run(run_load(url, process.pid, texts, args))
    report(tally, elapsed, rss, args)


async def run_load(
    url: str, pid: int | None, texts: list[str], args: argparse.Namespace
) -> tuple[Tally, float, tuple[int, int] | None]:
    """Run the clients until the deadline; the tally, the seconds taken and, for a process of
    ours (`pid`), its (start, peak) RSS."""
    tally = Tally()
    limits = httpx.Limits(max_connections=args.clients)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    async with httpx.AsyncClient(
        base_url=url, timeout=args.timeout, limits=limits, headers=headers
    ) as http:
        # The first request's costs stay off the clock, and a wrong URL or key stops here.
        try:
            first = await http.post("/score", json={"texts": texts[:1]})
        except httpx.TransportError as exc:
            sys.exit(f"{url} did not answer ({type(exc).__name__}): is the service running?")
        if first.status_code != 200:
            sys.exit(f"{url}/score answered HTTP {first.status_code}: {first.text[:300]}")
        peak = [read_rss(pid)] if pid is not None else [0]
        start_rss = peak[0]
        sampler = asyncio.create_task(sample_rss(pid, peak)) if pid is not None else None
        started = time.perf_counter()
        deadline = started + args.seconds
        await asyncio.gather(*(client(http, texts, deadline, tally) for _ in range(args.clients)))
        elapsed = time.perf_counter() - started
        if sampler is not None:
            sampler.cancel()
    if pid is None:
        return tally, elapsed, None
    return tally, elapsed, (start_rss, max(peak[0], read_rss(pid)))


async def client(http: httpx.AsyncClient, texts: list[str], deadline: float, tally: Tally) -> None:
    """Send requests back to back until `deadline`, waiting out each 429's Retry-After."""
    while time.perf_counter() < deadline:
        sent = time.perf_counter()
        try:
            response = await http.post("/score", json={"texts": texts})
        except httpx.TransportError as exc:
            tally.statuses[type(exc).__name__] += 1
            continue
        tally.statuses[str(response.status_code)] += 1
        if response.status_code == 200:
            tally.latencies_s.append(time.perf_counter() - sent)
        elif response.status_code == 429:
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))


async def sample_rss(pid: int, peak: list[int]) -> None:
    """Keep the largest resident set size of `pid` seen in `peak[0]`."""
    while True:
        peak[0] = max(peak[0], read_rss(pid))
        await asyncio.sleep(RSS_SAMPLE_S)


def read_rss(pid: int) -> int:
    """Resident set size of `pid` in bytes: psutil when installed, else /proc (Linux)."""
    try:
        import psutil
    except ImportError:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no VmRSS in /proc/{pid}/status; install psutil") from None
        return int(match.group(1)) * 1024
    return int(psutil.Process(pid).memory_info().rss)


def report(
    tally: Tally, elapsed: float, rss: tuple[int, int] | None, args: argparse.Namespace
) -> None:
    """Print latency percentiles, throughput, answers by status and memory."""
    answered = len(tally.latencies_s)
    print(
        f"\n{args.service}: {args.clients} clients x {args.texts} texts of {args.words} words, "
        f"{elapsed:.1f} s"
    )
    if answered:
        cuts = statistics.quantiles(tally.latencies_s, n=100, method="inclusive")
        print(
            f"  latency of 200s  p50 {cuts[49] * 1000:.0f} ms   p99 {cuts[98] * 1000:.0f} ms   "
            f"max {max(tally.latencies_s) * 1000:.0f} ms"
        )
    print(
        f"  throughput       {answered / elapsed:.2f} requests/s   "
        f"{answered * args.texts / elapsed:.1f} texts/s"
    )
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    print(f"  answers          {statuses or 'none'}")
    mib = 1024 * 1024
    if rss is None:
        print("  service RSS      not measured: the service runs elsewhere (--url)")
        return
    print(f"  service RSS      {rss[0] / mib:.0f} MiB after warm-up, peak {rss[1] / mib:.0f} MiB")


def corpus_texts(books: Path, count: int, words: int) -> list[str]:
    """`count` passages of `words` words, taken in turn from the books."""
    sources = sorted(books.glob("*.txt"))
    if not sources:
        sys.exit(f"no books (*.txt) in {books}")
    texts = []
    for i in range(count):
        tokens = re.findall(r"\S+\s*", sources[i % len(sources)].read_text(encoding="utf-8"))
        start = (len(tokens) // (count + 2)) * (i // len(sources) + 1)
        texts.append("".join(tokens[start : start + words]))
    return texts


def synthetic_texts(count: int, words: int) -> list[str]:
    """`count` texts of `words` random words in sentences and paragraphs, the same every run."""
    rng = random.Random(0)
    texts = []
    for _ in range(count):
        sentences = [
            " ".join(rng.choices(WORDS, k=12)).capitalize() + "." for _ in range(words // 12)
        ]
        paragraphs = [" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
        texts.append("\n\n".join(paragraphs) + "\n\nTHE END.")
    return texts


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an int in [low, high]."""

    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is outside [{low}, {high}]")
        return number

    return parse


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=["completeness", "style"], default="completeness")
    parser.add_argument("--corpus", type=Path, help="folder with books/ (required for style)")
    parser.add_argument("--clients", type=bounded(1, MAX_CLIENTS), default=16)
    parser.add_argument("--seconds", type=bounded(1, MAX_SECONDS), default=30)
    parser.add_argument("--texts", type=bounded(1, 256), default=64, help="texts per request")
    parser.add_argument("--words", type=bounded(1, 20_000), default=1400, help="words per text")
    parser.add_argument("--timeout", type=float, default=120.0, help="read timeout per request")
    parser.add_argument(
        "--url", help="load this running service (http(s)://host:port) instead of starting one"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("STYLEGRPO_API_KEY"),
        help="the service's API key, if it asks for one (default: $STYLEGRPO_API_KEY)",
    )
    args = parser.parse_args()
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        parser.error(f"--url must start with http:// or https://, got {args.url!r}")
    return args


if __name__ == "__main__":
    main()
