"""Demo: serve the style reward on a local corpus and score passages by three authors.

Usage: python scripts/demo_style.py --corpus ../shared/corpus
The corpus folder holds `books/AUTHOR--TITLE.txt` and, optionally, generic LLM-written prose
(`llm-generic-paragraphs.jsonl`). The first run embeds samples of every book (about half a
minute on 2 CPU cores) and caches them; later runs start in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path

from services.launcher import ServiceStartError, running_service
from shared.cli import format_style_result
from shared.client import RewardClient
from shared.schemas import ScoreResponse

PASSAGE_WORDS = 600


def main() -> None:
    """Start the service, score one passage per author and some generic prose, print it all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    corpus = parser.parse_args().corpus
    books = corpus / "books"
    if not books.is_dir():
        sys.exit(
            f"no books at {books}: point --corpus (make demo CORPUS=...) at a folder with "
            "books/AUTHOR--TITLE.txt files"
        )
    samples = {
        f"{path.stem.split('--')[0]}: {path.stem.split('--')[1]}": passage(path)
        for path in first_book_per_author(books)
    }
    negatives = corpus / "llm-generic-paragraphs.jsonl"
    if negatives.is_file():
        samples["generic LLM-written prose"] = generic_prose(negatives)
    env = {"STYLE_BOOKS_DIR": str(books), "STYLE_LOG_LEVEL": "warning"}
    if negatives.is_file():
        env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    log = Path(tempfile.gettempdir()) / "stylegrpo-demo-style.log"
    print(f"starting the style service on {books} (log: {log}) ...", flush=True)
    try:
        with running_service("style", env, log_path=log) as url:
            print(f"ready at {url}\n")
            response = asyncio.run(score(url, list(samples.values())))
    except ServiceStartError as exc:
        sys.exit(f"error: {exc}")
    print("style score against the mark-twain profile (1 = reads like Twain):")
    for (label, _), value in zip(samples.items(), response.scores, strict=True):
        print(f"  {value:.3f}  {label}")
    first_label, first_text = next(iter(samples.items()))
    single = response.model_copy(
        update={"scores": response.scores[:1], "details": (response.details or [])[:1]}
    )
    print(f"\n{first_label}:\n{format_style_result(first_text, single)}")


async def score(url: str, texts: list[str]) -> ScoreResponse:
    async with RewardClient(url) as client:
        return await client.score(texts, profile="mark-twain", details=True)


def first_book_per_author(books: Path) -> list[Path]:
    chosen: dict[str, Path] = {}
    for path in sorted(books.glob("*--*.txt")):
        chosen.setdefault(path.stem.split("--")[0], path)
    return sorted(chosen.values(), key=lambda p: not p.stem.startswith("mark-twain"))


def passage(path: Path) -> str:
    """`PASSAGE_WORDS` words from the middle of a book."""
    tokens = re.findall(r"\S+\s*", path.read_text(encoding="utf-8"))
    start = len(tokens) // 2
    return "".join(tokens[start : start + PASSAGE_WORDS])


def generic_prose(path: Path) -> str:
    paragraphs = [json.loads(line)["text"] for line in path.open(encoding="utf-8")][:6]
    return "\n\n".join(paragraphs)


if __name__ == "__main__":
    main()
