"""How well the style service's copy guard separates copied passages from original writing.

The index holds every book but the held-out ones (as the test profiles do). Positives: passages
of the author's indexed books with a share of their sentences swapped for sentences of generic
LLM paragraphs. Negatives: passages of a held-out book of the same author, and LLM paragraphs.
A text is flagged when its copied fraction exceeds the allowance (where the penalty starts).
Usage: python scripts/measure_copy_guard.py --books BOOKS_DIR --negatives PARAGRAPHS.jsonl
       [--author mark-twain --held-out mark-twain--a-horse-s-tale.txt --count 50 --words 300
        --ngram-words 8 --allowance 0.05 --penalty 2.0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import tracemalloc
from pathlib import Path

from services.style.guards.copy import CopyIndex, copy_report
from shared.book_folder import Book, find_books

SENTENCE = re.compile(r"(?<=[.!?])\s+")
REPLACED_SHARES = (0.0, 0.25, 0.5, 0.75, 0.9)


def passages(text: str, count: int, words: int, rng: random.Random) -> list[str]:
    """`count` passages of `words` whitespace-separated words from random places of `text`."""
    tokens = text.split()
    starts = rng.sample(range(len(tokens) - words), count)
    return [" ".join(tokens[s : s + words]) for s in starts]


def replace_sentences(text: str, share: float, donors: list[str], rng: random.Random) -> str:
    """`text` with `share` of its sentences swapped for sentences of `donors`."""
    sentences = SENTENCE.split(text)
    for i in rng.sample(range(len(sentences)), round(share * len(sentences))):
        sentences[i] = rng.choice(donors)
    return " ".join(sentences)


def main() -> None:
    """Build the index, score the crafted sets and print flag rates per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument("--negatives", type=Path, required=True)
    parser.add_argument("--author", default="mark-twain")
    parser.add_argument(
        "--held-out",
        nargs="+",
        default=["mark-twain--a-horse-s-tale.txt", "arthur-conan-doyle--sign-of-four.txt"],
    )
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--ngram-words", type=int, default=8)
    parser.add_argument("--allowance", type=float, default=0.05)
    parser.add_argument("--penalty", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    books = find_books(args.books)
    indexed = [b for b in books if b.path.name not in args.held_out]
    held_out = [b for b in books if b.path.name in args.held_out and b.author == args.author]
    if not held_out:
        raise SystemExit(f"no held-out book of {args.author} among {args.held_out} in {args.books}")
    paragraphs = [
        json.loads(line)["text"] for line in args.negatives.read_text().splitlines() if line
    ]

    tracemalloc.start()
    started = time.perf_counter()
    index = CopyIndex(args.ngram_words)
    for book in indexed:
        index.add(book.author, [book.read_text()])
    build_s = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"index: {len(indexed)} books, {index.nbytes / 2**20:.1f} MiB of hashes, "
        f"peak {peak / 2**20:.0f} MiB while building, {build_s:.1f} s"
    )

    own: list[Book] = [b for b in indexed if b.author == args.author]
    donors = [s for p in paragraphs for s in SENTENCE.split(p) if len(s.split()) > 4]
    sources = [p for b in own for p in passages(b.read_text(), 10, args.words, rng)]
    copied = rng.sample(sources, args.count)
    sets = {
        f"copied, {share:.0%} of sentences replaced": [
            replace_sentences(t, share, donors, rng) for t in copied
        ]
        for share in REPLACED_SHARES
    }
    sets["held-out book (original)"] = passages(
        held_out[0].read_text(), args.count, args.words, rng
    )
    sets["LLM paragraphs (original)"] = rng.sample(paragraphs, args.count)
    print(f"flagged = copied fraction > {args.allowance} ({args.ngram_words}-word n-grams)")
    for name, texts in sets.items():
        reports = [
            copy_report(
                index.copied_mask(args.author, t), allowance=args.allowance, penalty=args.penalty
            )
            for t in texts
        ]
        flagged = sum(r.copied_fraction > args.allowance for r in reports)
        fractions = sorted(r.copied_fraction for r in reports)
        factors = sorted(r.penalty_factor for r in reports)
        print(
            f"{name:38s} flagged {flagged:3d}/{len(texts)}  copied fraction median "
            f"{fractions[len(fractions) // 2]:.3f} max {fractions[-1]:.3f}  "
            f"penalty factor median {factors[len(factors) // 2]:.2f}"
        )


if __name__ == "__main__":
    main()
