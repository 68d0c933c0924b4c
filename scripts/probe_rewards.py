"""How the style reward and the content judge move under cheap edits of the policy's own stories.

A reward worth training on does not pay for a surface change that leaves the voice as it was, or
takes it further from the author. Each edit is applied to the stories of an evaluation's
`completions.jsonl` it can change (the base model's held-out stories of `make learn` by default),
and each reward scores the stories before and after, in one process, as its service would:
  third person     first person turned into third ("I" -> "he", "my" -> "his", ...): Twain's
                   narrators mostly say "I"; a reward should not pay for losing them
  no dialogue      the quoted speech removed (stories with at least two quotations)
  moral first      an upbeat LLM-style sentence about community and tradition put first
  moral last       the same sentence put last (it also finishes a story cut at the token limit)
  dated            "In 1874, " put first: the trained model of attempt 6 sets 27 of its 48
                   held-out stories in a year, a century or "long ago" in the first sentence
                   (the base model 4), as an encyclopedia entry opens
Printed per reward and edit: the stories, the mean before and after, how many scored higher.
Usage: python scripts/probe_rewards.py --books ../shared/corpus/books
       [--stories runs/learn/eval/base/completions.jsonl --policy-texts A.jsonl,B.jsonl
        --negative-texts ../shared/corpus/llm-generic-paragraphs.jsonl --rewards style content]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from in_process_scoring import score_in_batches

from services.common.scorer import Scorer
from services.judge.service import build_judge_service
from services.style.service import build_style_service

MORAL = (
    "Everyone in the community was proud of this amazing and wonderful tradition, and they "
    "would enjoy it together."
)
THIRD_PERSON = {
    "I": "he", "me": "him", "my": "his", "mine": "his", "myself": "himself", "I'm": "he's",
    "I've": "he's", "I'd": "he'd", "I'll": "he'll", "we": "they", "us": "them", "our": "their",
}  # fmt: skip
FIRST_PERSON = re.compile(r"\b(" + "|".join(sorted(THIRD_PERSON, key=len, reverse=True)) + r")\b")
QUOTATION = re.compile(r"\s*[\"“][^\"”]*[\"”]")
BATCH = 16


def third_person(text: str) -> str:
    """First person turned into third.

    >>> third_person("I told my brother we'd go, and I'm glad.")
    "he told his brother they'd go, and he's glad."
    """
    return FIRST_PERSON.sub(lambda match: THIRD_PERSON[match.group(1)], text)


def without_dialogue(text: str) -> str:
    """The text without its quoted speech.

    >>> without_dialogue('He stopped. "Who goes there?" he asked.')
    'He stopped. he asked.'
    """
    return QUOTATION.sub("", text)


def dated(text: str) -> str:
    """The text set in a year, as its first words.

    >>> dated("The raft drifted on.")
    'In 1874, the raft drifted on.'
    """
    text = text.lstrip()
    first = text.split(maxsplit=1)[0] if text else ""
    keep_capital = first in {"I", "I'm", "I've", "I'd", "I'll"} or first[1:2].isupper()
    return f"In 1874, {text if keep_capital else text[:1].lower() + text[1:]}"


EDITS: dict[str, tuple[Callable[[str], bool], Callable[[str], str]]] = {
    "third person": (lambda t: FIRST_PERSON.search(t) is not None, third_person),
    "no dialogue": (lambda t: len(QUOTATION.findall(t)) >= 2, without_dialogue),
    "moral first": (lambda t: True, lambda t: f"{MORAL} {t.lstrip()}"),
    "moral last": (lambda t: True, lambda t: f"{t.rstrip()} {MORAL}"),
    "dated": (lambda t: True, dated),
}


async def probe(scorer: Scorer, rows: list[dict[str, Any]], **request: Any) -> None:
    """Print, for each edit, the reward's mean before and after and how many stories rose."""
    try:
        await probe_edits(scorer, rows, **request)
    finally:
        await scorer.aclose()


async def probe_edits(scorer: Scorer, rows: list[dict[str, Any]], **request: Any) -> None:
    for name, (applies, edit) in EDITS.items():
        chosen = [row for row in rows if applies(row["completion"])]
        if not chosen:
            print(f"  {name:13s} no story to edit")
            continue
        prompts = [str(row.get("prompt", "")) for row in chosen]
        original = [row["completion"] for row in chosen]
        edited = [edit(text) for text in original]
        before = (await score_in_batches(scorer, original, prompts, batch=BATCH, **request)).scores
        after = (await score_in_batches(scorer, edited, prompts, batch=BATCH, **request)).scores
        higher = sum(b > a for a, b in zip(before, after, strict=True))
        print(
            f"  {name:13s} n={len(chosen):3d}  {sum(before) / len(before):.3f} -> "
            f"{sum(after) / len(after):.3f}  higher for {higher}/{len(chosen)}",
            flush=True,
        )


def main() -> None:
    """Load each reward in this process and probe it with every edit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=Path, required=True)
    parser.add_argument(
        "--stories", type=Path, default=Path("runs/learn/eval/base/completions.jsonl")
    )
    parser.add_argument("--policy-texts", default="runs/learn/policy-samples.jsonl")
    parser.add_argument("--negative-texts", default=None)
    parser.add_argument("--profile", default="mark-twain")
    parser.add_argument("--style-temperature", type=float, default=4.0)
    parser.add_argument("--rewards", nargs="+", choices=("style", "content"), default=["style"])
    args = parser.parse_args()
    if not args.stories.is_file():
        raise SystemExit(f"no stories at {args.stories}: pass an evaluation's completions.jsonl")
    lines = args.stories.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    print(f"{len(rows)} stories from {args.stories}")
    for reward in args.rewards:
        scorer: Scorer
        request: dict[str, Any] = {}
        if reward == "style":
            style = {
                "books_dir": args.books,
                "policy_texts": args.policy_texts,
                "score_temperature": args.style_temperature,
            }
            if args.negative_texts:
                style["negative_texts"] = args.negative_texts
            _, scorer = build_style_service(**style)
            request["profile"] = args.profile
        else:
            _, scorer = build_judge_service()
        scorer.load()
        print(f"{reward} ({scorer.model})", flush=True)
        asyncio.run(probe(scorer, rows, **request))


if __name__ == "__main__":
    main()
