"""Held-out AUCs of the author-LM likelihood ratios beside cosine Delta, on ~200-word texts.

The author LM (`trainer/evaluation/author_lm.py`) is fine-tuned on the author's books without the
held-out ones, the rivals' LM on every other author's books without the held-out ones; the Delta
profile is built from every author's books without the held-out ones. All three measures -
`author_lm` (author over base), `author_vs_rivals` (author over rivals) and Delta closeness - then
score the same texts, each cut to its first `--words` words (paragraph breaks kept):
  author     passages of the author's held-out books (the positives)
  policy     the base policy's stories (`completion` of a JSONL file)
  generic    LLM-written paragraphs (`text` of a JSONL file), joined into passages
  <rival>    passages of each other author's held-out book
and the table gives, per class, the AUC of the author's passages against it (1 = every author
passage scores higher) and the mean of each measure.
Usage: nice -n 19 python scripts/measure_author_lm.py --books ../shared/corpus/books \\
           --policy ../data/base-policy.jsonl \\
           --generic ../shared/corpus/llm-generic-paragraphs.jsonl [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from services.common.calibration import roc_auc
from shared.book_folder import Book, find_books
from trainer.data.cleaning import paragraphs
from trainer.evaluation.author_lm import AuthorLanguageModel, AuthorLmSettings
from trainer.evaluation.stylometry import StylometryProfile
from trainer.style_encoder.authorship_eval import AuthorshipTest, book_passages, prose_passages

HELD_OUT = {
    "mark-twain": ["a-horse-s-tale", "the-innocents-abroad-volume-01"],
    "arthur-conan-doyle": ["sign-of-four"],
    "pg-wodehouse": ["a-man-of-means"],
}


def cut_words(text: str, count: int) -> str:
    """`text` up to the end of its `count`-th word, its spacing and paragraph breaks kept.

    >>> cut_words("One two.\\n\\nThree four", 3)
    'One two.\\n\\nThree'
    """
    ends = [match.end() for match in re.finditer(r"\S+", text)]
    return text[: ends[min(count, len(ends)) - 1]] if ends else ""


def spread(pool: list[str], count: int) -> list[str]:
    """`count` items spread evenly over `pool` (all of it when it is smaller)."""
    if len(pool) <= count:
        return pool
    return [pool[len(pool) * i // count] for i in range(count)]


def held_out_passages(books: list[Book], count: int, words: int) -> list[str]:
    """`count` passages of at least `words` words, spread evenly over the books, cut to `words`."""
    test = AuthorshipTest(min_words=words, max_words=words + 60, passages_per_book=10_000)
    pool = [p for book in books for p in book_passages(book, test)]
    return [cut_words(p, words) for p in spread(pool, count)]


def read_jsonl(path: Path, field: str) -> list[str]:
    """The `field` of every record of a JSONL file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)[field]) for line in lines if line.strip()]


def main() -> None:
    """Build both measures without the held-out books, score every class, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument("--policy", type=Path, required=True, help="JSONL with `completion`")
    parser.add_argument("--generic", type=Path, required=True, help="JSONL with `text`")
    parser.add_argument("--author", default="mark-twain")
    parser.add_argument("--passages", type=int, default=40, help="texts per class")
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--steps", type=int, default=AuthorLmSettings.steps)
    parser.add_argument("--batch-size", type=int, default=AuthorLmSettings.batch_size)
    parser.add_argument("--block-tokens", type=int, default=AuthorLmSettings.block_tokens)
    parser.add_argument("--learning-rate", type=float, default=AuthorLmSettings.learning_rate)
    parser.add_argument("--lora-rank", type=int, default=AuthorLmSettings.lora_rank)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "stylegrpo")
    args = parser.parse_args()

    books = find_books(args.books)
    held_titles = {(a, t) for a, titles in HELD_OUT.items() for t in titles}
    held = [b for b in books if (b.author, b.title) in held_titles]
    if len(held) < len(held_titles):
        raise SystemExit(f"the books folder lacks some held-out books: {sorted(held_titles)}")
    classes = {
        "author": held_out_passages(
            [b for b in held if b.author == args.author], args.passages, args.words
        )
    }
    classes["policy"] = [
        cut_words(t, args.words)
        for t in spread(read_jsonl(args.policy, "completion"), args.passages)
    ]
    generic = prose_passages(
        read_jsonl(args.generic, "text"),
        AuthorshipTest(min_words=args.words, max_words=args.words + 60),
    )
    classes["generic"] = [cut_words(t, args.words) for t in spread(generic, args.passages)]
    for rival in sorted({b.author for b in held} - {args.author}):
        classes[rival] = held_out_passages(
            [b for b in held if b.author == rival], args.passages, args.words
        )

    texts: dict[str, list[str]] = {}
    for book in books:
        if (book.author, book.title) not in held_titles:
            texts.setdefault(book.author, []).append("\n\n".join(paragraphs(book.read_text())))
    profile = StylometryProfile.from_texts(texts, args.author)

    settings = AuthorLmSettings(
        steps=args.steps, batch_size=args.batch_size, block_tokens=args.block_tokens,
        learning_rate=args.learning_rate, lora_rank=args.lora_rank,
    )  # fmt: skip
    began = time.monotonic()
    model = AuthorLanguageModel.build(
        args.books, args.author, held_out=HELD_OUT[args.author], settings=settings,
        cache_dir=args.cache_dir,
    )  # fmt: skip
    rival_titles = [t for a, titles in HELD_OUT.items() if a != args.author for t in titles]
    rivals = AuthorLanguageModel.build_rivals(
        args.books, args.author, held_out=rival_titles, settings=settings,
        cache_dir=args.cache_dir,
    )  # fmt: skip
    built = time.monotonic() - began
    print(f"built or loaded both LMs in {built:.0f} s here")
    for lm in (model, rivals):
        print(f"{lm.info['author']} LM: {lm.folder} (trained in {lm.info['seconds']} s, loss "
              f"{lm.info['first_loss']:.3f} -> {lm.info['last_loss']:.3f})")  # fmt: skip

    all_texts = [t for group in classes.values() for t in group]
    began, cpu = time.monotonic(), time.process_time()
    ratios = model.measure(all_texts)
    seconds, cpu_seconds = time.monotonic() - began, time.process_time() - cpu
    contrasts = [a - r for a, r in zip(ratios, rivals.measure(all_texts), strict=True)]
    tokens = sum(len(model.tokenizer(t)["input_ids"]) for t in all_texts)
    print(f"author LM: scored {len(all_texts)} texts ({tokens / len(all_texts):.0f} tokens each "
          "on average) "
          f"in {seconds:.0f} s wall, {cpu_seconds:.0f} s CPU: {seconds / len(all_texts):.2f} s "
          "per text")  # fmt: skip
    closeness = [s.closeness for s in profile.measure(all_texts)]

    scores: dict[str, dict[str, np.ndarray]] = {}
    start = 0
    for name, group in classes.items():
        window = slice(start, start + len(group))
        scores[name] = {
            "lm": np.array(ratios[window]),
            "contrast": np.array(contrasts[window]),
            "delta": np.array(closeness[window]),
        }
        start += len(group)
    own = scores["author"]
    print(f"\n{args.words}-word texts; AUC: held-out {args.author} passages against each class")
    print("| class | n | AUC: author_lm | author_vs_rivals | Delta closeness | mean: author_lm | "
          "author_vs_rivals | closeness |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    measures = ("lm", "contrast", "delta")
    for name, values in scores.items():
        aucs = (
            ["-"] * len(measures)
            if name == "author"
            else [f"{roc_auc(own[m], values[m]):.3f}" for m in measures]
        )
        means = [f"{values[m].mean():+.3f}" for m in measures]
        print(f"| {name} | {len(values['lm'])} | {' | '.join(aucs)} | {' | '.join(means)} |")


if __name__ == "__main__":
    main()
