"""Is an evaluation's `author_lm` rise the author's, or any book's? The same ratio under rivals.

`author_lm` is a story's per-token log-likelihood under SmolLM2 fine-tuned on the target author's
books over SmolLM2 itself. A policy that leaves the base model's chat-assistant prose for book prose
of *any* author raises it. Here each model's stories of an evaluation run
(`OUT/NAME/completions.jsonl`) are scored by the author LM of the target and of each rival author,
built the same way (`trainer/evaluation/author_lm.py`, cached like the target's: ~12 min each on 2
CPU cores the first time), and the table gives, per author, both models' means and the paired
bootstrap interval of the difference (`trainer.evaluation.intervals`), then the target's ratio minus
each rival's: the part that tells the target from that rival; and minus the ratio of the rivals' LM,
fine-tuned on every other author's books together: the evaluation's `author_vs_rivals`
(`trainer.evaluation.author_lm.AuthorLmMeasures`), for an evaluation that predates it.

Usage: python scripts/rival_author_lm.py --eval runs/learn/eval --books ../shared/corpus/books
       [--models base trained] [--author mark-twain] [--rivals arthur-conan-doyle pg-wodehouse]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shared.book_folder import find_books
from trainer.evaluation.author_lm import AuthorLanguageModel, rivals_label
from trainer.evaluation.completions import COMPLETIONS_FILE
from trainer.evaluation.intervals import difference_interval

CACHE = Path.home() / ".cache" / "stylegrpo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, required=True, help="an evaluation's output folder")
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument("--models", nargs=2, default=["base", "trained"], metavar="NAME")
    parser.add_argument("--author", default="mark-twain")
    parser.add_argument("--rivals", nargs="*", default=None, help="default: every other author")
    args = parser.parse_args()
    stories = {name: load_stories(args.eval / name / COMPLETIONS_FILE) for name in args.models}
    authors = sorted({book.author for book in find_books(args.books)})
    if args.author not in authors:
        sys.exit(f"error: no books of {args.author!r} in {args.books} (found: {authors})")
    rivals = args.rivals if args.rivals is not None else [a for a in authors if a != args.author]
    ratios: dict[str, dict[str, list[float]]] = {}
    for author in [args.author, *rivals]:
        lm = AuthorLanguageModel.build(args.books, author, cache_dir=CACHE)
        ratios[author] = {
            name: lm.measure([str(r["completion"]) for r in rows]) for name, rows in stories.items()
        }
        del lm
    pooled = AuthorLanguageModel.build_rivals(args.books, args.author, cache_dir=CACHE)
    pooled_ratios = {
        name: pooled.measure([str(r["completion"]) for r in rows]) for name, rows in stories.items()
    }
    first, second = args.models
    print(f"| author LM | {first} | {second} | {second} - {first} |\n| --- | --- | --- | --- |")
    for author, by_model in ratios.items():
        print(row(author, stories, first, second, by_model))
    for rival in rivals:
        contrast = {
            name: [
                t - r for t, r in zip(ratios[args.author][name], ratios[rival][name], strict=True)
            ]
            for name in args.models
        }
        print(row(f"{args.author} - {rival}", stories, first, second, contrast))
    against_pooled = {
        name: [t - r for t, r in zip(ratios[args.author][name], pooled_ratios[name], strict=True)]
        for name in args.models
    }
    label = f"{args.author} - {rivals_label(args.author)} (author_vs_rivals)"
    print(row(label, stories, first, second, against_pooled))


def load_stories(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        sys.exit(f"error: no {path}: point --eval at a `stylegrpo eval` output folder")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return sorted(rows, key=lambda r: (r["row"], r["sample"]))


def row(
    label: str,
    stories: dict[str, list[dict[str, Any]]],
    first: str,
    second: str,
    values: dict[str, list[float]],
) -> str:
    """One table row: both models' means and the paired interval of the difference."""
    records = {
        name: [{**r, "x": v} for r, v in zip(stories[name], values[name], strict=True)]
        for name in (first, second)
    }
    mean = {name: sum(values[name]) / len(values[name]) for name in (first, second)}
    low, high = difference_interval(records[first], records[second], "x")
    return (
        f"| {label} | {mean[first]:+.3f} | {mean[second]:+.3f} | "
        f"{mean[second] - mean[first]:+.3f} [{low:+.3f}, {high:+.3f}] |"
    )


if __name__ == "__main__":
    main()
