"""What the style service's prose guard sees in prose and in text that only looks like words.

The style scorer is built, as the service builds it, from every book but a seeded 20% of each
author's (`stylegrpo eval-authorship`'s choice) and the first three quarters of the negative
texts. It then scores 220-420-word passages of the held-out books and of the held-out LLM
paragraphs, and crafted non-prose: random tokens of the judge's tokenizer, shuffled words of a
held-out book, one word repeated, runs of punctuation. Printed per set: the known word-n-gram
fraction, the prose factor and the score, against the author's profile.
Usage: python scripts/measure_prose_guard.py --books BOOKS_DIR --negatives PARAGRAPHS.jsonl
       [--author mark-twain --seed 0 --cache-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
from pathlib import Path

import numpy as np

from services.judge.backends.model_source import load_tokenizer, resolve_judge_model
from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings
from shared.book_folder import find_books
from shared.schemas import ScoreRequest
from trainer.style_encoder.authorship_eval import (
    AuthorshipTest,
    book_passages,
    choose_held_out,
    prose_passages,
    read_records,
)

CRAFTED = 8
BATCH = 16


def crafted_sets(held_out_text: str, rng: random.Random) -> dict[str, list[str]]:
    """Text made of words, but not prose."""
    tokenizer = load_tokenizer(*resolve_judge_model(None)[:2])
    words = held_out_text.split()
    return {
        f"random tokens x{n}": [
            tokenizer.decode([rng.randrange(len(tokenizer)) for _ in range(n)])
            for _ in range(CRAFTED)
        ]
        for n in (48, 300)
    } | {
        "shuffled words of a held-out book x300": [
            " ".join(rng.sample(words, 300)) for _ in range(CRAFTED)
        ],
        "one word repeated x300": ["reckon " * 300],
        "punctuation runs": ["... !!! ??? ,,, ;;; " * 40],
    }


def main() -> None:
    """Build the scorer on the training books, score every set, print a line per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument("--negatives", type=Path, required=True)
    parser.add_argument("--author", default="mark-twain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    test = AuthorshipTest(author=args.author, seed=args.seed)
    books = find_books(args.books)
    held_out = choose_held_out(books, test)
    records = read_records(args.negatives)
    cut = len(records) - int(len(records) * test.negative_held_out_fraction)
    sets = {f"held-out {b.author}--{b.title}": book_passages(b, test) for b in held_out}
    sets["held-out LLM paragraphs"] = prose_passages(records[cut:], test)
    own = next(b for b in held_out if b.author == args.author)
    sets |= crafted_sets(own.read_text(), random.Random(args.seed))
    with tempfile.TemporaryDirectory() as folder:
        training = Path(folder) / "books"
        training.mkdir()
        for book in books:
            if book not in held_out:
                (training / book.path.name).symlink_to(book.path.resolve())
        negatives = Path(folder) / "training-negatives.jsonl"
        negatives.write_text("".join(json.dumps({"text": r}) + "\n" for r in records[:cut]))
        settings = StyleSettings(books_dir=training, negative_texts=[negatives])
        if args.cache_dir:
            settings = settings.model_copy(update={"cache_dir": args.cache_dir})
        scorer = StyleScorer(settings)
        scorer.load()
        asyncio.run(report(scorer, sets, args.author))


async def report(scorer: StyleScorer, sets: dict[str, list[str]], author: str) -> None:
    """Score each set in batches and print its ranges."""
    try:
        for name, texts in sets.items():
            scores: list[float] = []
            known: list[float] = []
            factors: list[float] = []
            for start in range(0, len(texts), BATCH):
                request = ScoreRequest(
                    texts=texts[start : start + BATCH], profile=author, details=True
                )
                scored = await scorer.score(request)
                scores += scored.scores
                for detail in scored.details or []:
                    known.append(detail["known_ngram_fraction"])
                    factors.append(detail["prose_factor"])
            print(
                f"{name:60s} n={len(texts):3d}  known {min(known):.3f}-{max(known):.3f}  "
                f"prose factor < 1: {sum(f < 1 for f in factors):3d}  "
                f"score median {np.median(scores):.3f} max {max(scores):.3f}"
            )
    finally:
        await scorer.aclose()


if __name__ == "__main__":
    main()
