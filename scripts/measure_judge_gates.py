"""Whether the content judge's gates rank a text above a broken copy of it, and leave signal.

Texts, from the real embedded judge (SmolLM2-135M-Instruct) under each rubric:
  pairs     24 passages (220-420 words, `stylegrpo eval-authorship`'s cut) of the held-out
            Mark Twain books (its seeded choice) against scrambled copies of them
            (`services.judge.fluency.scramble`); counted: the original above, level with and
            below its copy, by fluency alone and by the final score, and the gates that fired
  named     the same for passages of any of the author's books that name one of the author's
            names (the judge never sees the books): a shuffle must not hide the name
  stories   the held-out passages as whole stories (cut back to their last full sentence) with
            the end marker, without it, cut mid-sentence, and cut with the marker pasted after
  policy    the base policy's stories (groups of samples of one prompt): gates that fired and
            the groups whose scores are all equal (a GRPO group without signal)
The figures before a change: run this file against a checkout of the commit before it.
Usage: python scripts/measure_judge_gates.py --books ../shared/corpus/books
       [--policy ../data/base-policy.jsonl --rubrics narrative-v1 story-v2 --pairs 24
        --sets pairs named stories policy]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from in_process_scoring import score_in_batches

from services.judge.fluency import scramble
from services.judge.scorer import JudgeScorer
from services.judge.service import build_judge_service
from shared.author_names import names_of, names_pattern
from shared.book_folder import find_books
from shared.text import words
from trainer.data.sentences import is_complete, split_sentences
from trainer.style_encoder.authorship_eval import AuthorshipTest, book_passages, choose_held_out

PROMPT = "Write a story in the style of a classic American humorist."
END_MARKER = "THE END."
BATCH = 32
CUT_FRACTION = 0.6
SETS = ("pairs", "named", "stories", "policy")


def held_out_passages(books: Path, author: str, count: int) -> list[str]:
    """`count` passages spread evenly over the author's held-out books."""
    test = AuthorshipTest(author=author)
    held_out = [b for b in choose_held_out(find_books(books), test) if b.author == author]
    pool = [p for book in held_out for p in book_passages(book, test)]
    if len(pool) < count:
        raise SystemExit(f"only {len(pool)} held-out passages of {author}; ask for fewer")
    return [pool[len(pool) * i // count] for i in range(count)]


def named_passages(books: Path, author: str, count: int) -> list[str]:
    """Up to `count` passages of any of the author's books that name one of its names."""
    test = AuthorshipTest(author=author)
    pattern = names_pattern(names_of(author))
    pool = [
        p
        for book in find_books(books)
        if book.author == author
        for p in book_passages(book, test)
        if pattern.search(p)
    ]
    return [pool[len(pool) * i // count] for i in range(count)] if len(pool) > count else pool


def whole_story(passage: str) -> str:
    """The passage up to its last complete sentence."""
    pieces = split_sentences(passage)
    while len(pieces) > 1 and not is_complete(pieces[-1][0]):
        pieces.pop()
    return "".join(s + g for s, g in pieces).rstrip()


def cut_mid_sentence(story: str) -> str:
    """The story cut after a word that ends no sentence, about `CUT_FRACTION` of the way in."""
    tokens = story.split(" ")
    at = int(len(tokens) * CUT_FRACTION)
    while at < len(tokens) - 1 and not tokens[at - 1][-1:].isalpha():
        at += 1
    return " ".join(tokens[:at])


def policy_groups(path: Path) -> dict[int, list[tuple[str, str]]]:
    """(prompt, completion) of the base policy's samples, grouped by prompt row."""
    groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            groups[record["row"]].append((record["prompt"], record["completion"]))
    return groups


async def judge(
    scorer: JudgeScorer, texts: list[str], prompts: list[str]
) -> tuple[list[float], list[dict[str, Any]]]:
    """Scores and details, in batches."""
    scored = await score_in_batches(scorer, texts, prompts, batch=BATCH, details=True)
    return scored.scores, scored.details or []


def ranked(first: list[float], second: list[float]) -> str:
    """How often the first is above, level with, below the second."""
    above = sum(a > b for a, b in zip(first, second, strict=True))
    level = sum(a == b for a, b in zip(first, second, strict=True))
    return f"above {above:2d}, level {level:2d}, below {len(first) - above - level:2d}"


def gates(details: list[dict[str, Any]]) -> str:
    """Which checks failed, how often."""
    fired = Counter(name for d in details for name in d["checks_failed"])
    return ", ".join(f"{name} {n}" for name, n in sorted(fired.items())) or "none"


async def pair_figures(scorer: JudgeScorer, label: str, passages: list[str]) -> None:
    """Each passage against a scrambled copy of it."""
    n = len(passages)
    scrambled = [scramble(p, seed=i) for i, p in enumerate(passages)]
    scores, details = await judge(scorer, passages + scrambled, [PROMPT] * 2 * n)
    fluency = [d["fluency"] for d in details]
    print(f"  {label} (original vs scrambled), n={n}")
    print(f"    fluency alone   {ranked(fluency[:n], fluency[n:])}")
    print(f"    final score     {ranked(scores[:n], scores[n:])}")
    print(f"    gates fired     originals: {gates(details[:n])}; copies: {gates(details[n:])}")


async def story_figures(scorer: JudgeScorer, passages: list[str]) -> None:
    """Whole stories with and without their ending."""
    n = len(passages)
    stories = [whole_story(p) for p in passages]
    cut = [cut_mid_sentence(s) for s in stories]
    variants = {
        "with marker": [f"{s}\n\n{END_MARKER}" for s in stories],
        "no marker": stories,
        "cut": cut,
        "cut + marker": [f"{c}\n\n{END_MARKER}" for c in cut],
    }
    texts = [t for v in variants.values() for t in v]
    scores, details = await judge(scorer, texts, [PROMPT] * len(texts))
    by_variant = {name: scores[i * n : (i + 1) * n] for i, name in enumerate(variants)}
    print(f"  whole stories, n={n}")
    for i, (name, values) in enumerate(by_variant.items()):
        print(
            f"    {name:13s} mean {sum(values) / n:.3f}, zero {sum(v == 0 for v in values):2d}; "
            f"gates: {gates(details[i * n : (i + 1) * n])}"
        )
    for better, worse in [
        ("with marker", "no marker"),
        ("with marker", "cut + marker"),
        ("no marker", "cut"),
    ]:
        print(f"    {better} vs {worse}: {ranked(by_variant[better], by_variant[worse])}")


async def policy_figures(scorer: JudgeScorer, groups: dict[int, list[tuple[str, str]]]) -> None:
    """The base policy's stories, group by group."""
    prompts = [p for group in groups.values() for p, _ in group]
    completions = [c for group in groups.values() for _, c in group]
    scores, details = await judge(scorer, completions, prompts)
    flat, at = 0, 0
    for group in groups.values():
        values = scores[at : at + len(group)]
        flat += max(values) - min(values) < 1e-9
        at += len(group)
    print(
        f"  base policy, {len(completions)} stories in {len(groups)} groups: "
        f"{flat} groups flat, {sum(s == 0 for s in scores)} scores 0, "
        f"mean {sum(scores) / len(scores):.3f}"
    )
    print(f"    gates fired     {gates(details)}")


async def figures(
    scorer: JudgeScorer,
    sets: list[str],
    passages: list[str],
    named: list[str],
    groups: dict[int, list[tuple[str, str]]],
) -> None:
    """Print the chosen sets' figures under one rubric."""
    if "pairs" in sets:
        await pair_figures(scorer, "held-out pairs", passages)
    if "named" in sets and named:
        await pair_figures(scorer, "named pairs", named)
    if "stories" in sets:
        await story_figures(scorer, passages)
    if "policy" in sets and groups:
        await policy_figures(scorer, groups)


def main() -> None:
    """Score every set under each rubric and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument("--policy", type=Path, default=None, help="base-policy samples (.jsonl)")
    parser.add_argument("--rubrics", nargs="+", default=["narrative-v1", "story-v2"])
    parser.add_argument("--author", default="mark-twain")
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    args = parser.parse_args()
    passages = held_out_passages(args.books, args.author, args.pairs)
    named = named_passages(args.books, args.author, args.pairs)
    print(
        f"{len(passages)} held-out {args.author} passages, "
        f"{min(len(words(p)) for p in passages)}-{max(len(words(p)) for p in passages)} words; "
        f"{len(named)} passages naming the author's names"
    )
    groups = policy_groups(args.policy) if args.policy else {}
    for rubric in args.rubrics:
        _, scorer = build_judge_service(rubric=rubric, author=args.author)
        scorer.load()
        print(f"rubric {rubric}, judge {scorer.model}")
        try:
            asyncio.run(figures(scorer, args.sets, passages, named, groups))
        finally:
            asyncio.run(scorer.aclose())


if __name__ == "__main__":
    main()
