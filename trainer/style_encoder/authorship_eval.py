"""Stage 1's authorship evaluator: does the style score tell an author's unseen books apart?

Some books of every author are held out; the style scorer (the service's own `StyleScorer`, so
windowing, profiles, classifier and aggregation are exactly what training is rewarded with) is
built from the rest, then scores 220-420-word passages of the held-out books and of held-out
LLM-written prose. Reported: ROC AUC of the author's passages against other authors' passages
(all together and each author) and against the LLM-written passages; and the stuffing attack:
the same LLM passages with the author's telltale words inserted every ~15 words (the author's
names from the names list, and the words the author over-uses most in the held-out books, which
the scorer never saw), its AUC against the author's passages and how much it raises the score.

What it takes from the service, to score exactly as the service does: the scorer and its
settings (`services.style.scorer`, `services.style.settings`), the policy-story reader
(`services.style.profiles.policy_texts`), the stuffing attack
(`services.style.classifier.stuffing`) and the calibration's AUC (`services.common.calibration`).

    stylegrpo eval-authorship --books ../shared/corpus/books \\
        --negative-texts ../shared/corpus/llm-generic-paragraphs.jsonl --out runs/authorship
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import get_args

import numpy as np

from services.common.calibration import roc_auc
from services.style.classifier.stuffing import STUFFING_EVERY_WORDS, stuff
from services.style.profiles.policy_texts import PolicyText, read_policy_texts
from services.style.settings import StyleSettings
from shared.book_folder import Book, find_books
from shared.files import replaced_folder
from trainer.data.chunking import chunk_book
from trainer.data.cleaning import paragraphs
from trainer.style_encoder.authorship_attacks import (
    book_typography,
    first_words,
    llm_typography,
    stuffing_markers,
    topic_nouns,
)
from trainer.style_encoder.authorship_report import format_results

SCORE_BATCH = 16
STUFFED = "stuffed llm"
TOPIC_STUFFED = "topic-stuffed llm"
POLICY = "policy"
POLICY_NOUNS = "policy + topic nouns"
AUTHOR_RETYPED = "author, LLM typography"
LLM_RETYPED = "llm, book typography"
SHORT = "author, first words"
# Passage kinds that are attacks or variants, never an author of their own.
DERIVED = (STUFFED, TOPIC_STUFFED, POLICY, POLICY_NOUNS, AUTHOR_RETYPED, LLM_RETYPED, SHORT)
SHORT_WORDS = 29


@dataclass(frozen=True)
class AuthorshipTest:
    """What is held out and how passages are cut from it."""

    author: str = "mark-twain"
    held_out_fraction: float = 0.2
    held_out_titles: tuple[str, ...] = ()
    negative_held_out_fraction: float = 0.25
    min_words: int = 220
    max_words: int = 420
    passages_per_book: int = 40
    prose_passages: int = 120
    seed: int = 0
    stuffing_every_words: int = STUFFING_EVERY_WORDS
    stuffing_words: tuple[str, ...] = ()
    topic_every_words: int = 12
    policy_held_out_fraction: float = 0.25
    # False: the held-out policy stories are scored, the rest are not learned (a baseline).
    policy_negatives: bool = True


@dataclass
class AuthorshipResult:
    """AUCs of one scorer variant on the held-out passages."""

    variant: str
    model: str
    classifier: bool
    auc_vs_authors: float
    auc_vs_llm: float | None
    auc_per_author: dict[str, float]
    mean_score: dict[str, float] = field(default_factory=dict)
    auc_vs_stuffed: float | None = None
    stuffing_rise_mean: float | None = None
    stuffing_rise_p95: float | None = None
    topic_rise_mean: float | None = None
    auc_vs_policy: float | None = None
    policy_above_half: float | None = None
    auc_vs_policy_nouns: float | None = None
    policy_nouns_above_half: float | None = None
    # Largest |score change| of a passage set in the other typography (author's and LLM's).
    typography_move_max: float | None = None
    short_max: float | None = None
    author: str = ""
    backend: str = "auto"
    # |score - score of the same passage under the first backend|, over every passage.
    score_diff_max: float | None = None
    score_diff_mean: float | None = None


def choose_held_out(books: list[Book], test: AuthorshipTest) -> list[Book]:
    """The named titles, or per author a seeded `held_out_fraction` of its books (at least one,
    and never all of them)."""
    if test.held_out_titles:
        chosen = [b for b in books if b.title in test.held_out_titles]
        missing = set(test.held_out_titles) - {b.title for b in chosen}
        if missing:
            raise ValueError(f"held-out titles not among the books: {', '.join(sorted(missing))}")
        return chosen
    rng = random.Random(test.seed)
    chosen = []
    for author in sorted({b.author for b in books}):
        own = [b for b in books if b.author == author]
        if len(own) < 2:
            continue
        count = min(len(own) - 1, max(1, math.ceil(test.held_out_fraction * len(own))))
        chosen += rng.sample(own, count)
    return chosen


def book_passages(book: Book, test: AuthorshipTest) -> list[str]:
    """Up to `passages_per_book` passages of `min_words`..`max_words` words, spread evenly."""
    chunks = chunk_book(book.author, book.title, paragraphs(book.read_text()), test.max_words)
    usable = [c.text for c in chunks if c.words >= test.min_words]
    if len(usable) > test.passages_per_book:
        step = len(usable) / test.passages_per_book
        usable = [usable[int(i * step)] for i in range(test.passages_per_book)]
    return usable


def prose_passages(records: list[str], test: AuthorshipTest) -> list[str]:
    """Consecutive paragraphs joined until a passage reaches `min_words`; a passage never goes
    past `max_words` (a paragraph longer than that on its own is left out)."""
    passages: list[str] = []
    current: list[str] = []
    count = 0
    for text in records:
        size = len(text.split())
        if size > test.max_words:
            continue
        if current and count + size > test.max_words:
            current, count = [], 0
        current.append(text)
        count += size
        if count >= test.min_words:
            passages.append("\n\n".join(current))
            current, count = [], 0
    return passages


def split_policy_texts(
    texts: list[PolicyText], test: AuthorshipTest
) -> tuple[list[PolicyText], list[PolicyText]]:
    """(for the service, held out): a seeded `policy_held_out_fraction` of the prompts (at
    least one) is held out whole, so no held-out story's prompt is among the service's."""
    prompts = sorted({t.prompt for t in texts})
    if len(prompts) < 2:
        raise ValueError(
            f"policy texts need two or more prompts (one is held out); got {len(prompts)}"
        )
    count = min(len(prompts) - 1, max(1, round(test.policy_held_out_fraction * len(prompts))))
    held = set(random.Random(test.seed).sample(prompts, count))
    return [t for t in texts if t.prompt not in held], [t for t in texts if t.prompt in held]


def read_records(path: Path) -> list[str]:
    """The `text` of every JSONL record, or the paragraphs of a `.txt` file."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [str(json.loads(line)["text"]) for line in raw.splitlines() if line.strip()]
    return [p.strip() for p in raw.split("\n\n") if p.strip()]


def evaluate_authorship(
    books_dir: Path,
    negative_texts: Path | None,
    out_dir: Path,
    *,
    models: list[str | None],
    test: AuthorshipTest,
    cache_dir: Path | None = None,
    backends: tuple[str, ...] = ("auto",),
    policy_texts: list[Path] | None = None,
) -> list[AuthorshipResult]:
    """Score held-out passages with each model on each encoder backend, encoder alone and with
    the n-gram classifier; write `authorship.json` and `authorship.md` into `out_dir`. Rows after
    the first backend also say how far each passage's score moved from the first backend's."""
    known = get_args(StyleSettings.model_fields["backend"].annotation)
    unknown = [b for b in backends if b not in known]
    if unknown or not backends:
        raise ValueError(f"backends must be among {', '.join(known)}; got {list(backends)}")
    books = find_books(books_dir)
    if test.author not in {b.author for b in books}:
        raise ValueError(f"no books by {test.author!r} in {books_dir}")
    held_out = choose_held_out(books, test)
    if not any(b.author == test.author for b in held_out):
        raise ValueError(f"{test.author!r} needs two or more books: one is held out")
    training = [b for b in books if b not in held_out]
    records = read_records(negative_texts) if negative_texts else []
    cut = len(records) - int(len(records) * test.negative_held_out_fraction)
    passages = [(b.author, p) for b in held_out for p in book_passages(b, test)]
    prose = prose_passages(records[cut:], test)[: test.prose_passages]
    passages += [("llm", p) for p in prose]
    markers = list(test.stuffing_words) or stuffing_markers(held_out, test.author)
    nouns = topic_nouns(held_out, test.author)
    rng = random.Random(test.seed)
    passages += [(STUFFED, stuff(p, markers, rng, every=test.stuffing_every_words)) for p in prose]
    if nouns:
        every = test.topic_every_words
        passages += [(TOPIC_STUFFED, stuff(p, nouns, rng, every=every)) for p in prose]
    policy_training, policy_held_out = (
        split_policy_texts(read_policy_texts(policy_texts), test) if policy_texts else ([], [])
    )
    stories = [t.text for t in policy_held_out]
    passages += [(POLICY, t) for t in stories]
    if nouns:
        every = test.topic_every_words
        passages += [(POLICY_NOUNS, stuff(t, nouns, rng, every=every)) for t in stories]
    own = [p for a, p in passages if a == test.author]
    passages += [(AUTHOR_RETYPED, llm_typography(p)) for p in own]
    passages += [(LLM_RETYPED, book_typography(p)) for p in prose]
    passages += [(SHORT, first_words(p, SHORT_WORDS)) for p in own]
    results = []
    with replaced_folder(out_dir) as staging:
        books_copy = staging / "training-books"
        books_copy.mkdir()
        for book in training:
            (books_copy / f"{book.author}--{book.title}.txt").symlink_to(book.path.resolve())
        negatives = []
        if records:
            negatives.append(staging / "training-negatives.jsonl")
            negatives[0].write_text("".join(json.dumps({"text": r}) + "\n" for r in records[:cut]))
        policy_files = []
        if policy_training and test.policy_negatives:
            policy_files.append(staging / "training-policy.jsonl")
            policy_files[0].write_text(
                "".join(
                    json.dumps({"prompt": t.prompt, "completion": t.text}) + "\n"
                    for t in policy_training
                )
            )
        for model in models:
            first: dict[bool, np.ndarray] = {}
            for backend in backends:
                for classifier in (False, True):
                    scores = _score(books_copy, negatives, policy_files, model, classifier,
                                    test.author, passages, cache_dir, backend)  # fmt: skip
                    result = _result(model, classifier, test.author, passages, scores)
                    result.backend = backend
                    if classifier in first:
                        gap = np.abs(scores - first[classifier])
                        result.score_diff_max, result.score_diff_mean = gap.max(), gap.mean()
                    else:
                        first[classifier] = scores
                    results.append(result)
        for link in books_copy.iterdir():
            link.unlink()
        books_copy.rmdir()
        for path in [*negatives, *policy_files]:
            path.unlink()
        names = [f"{b.author}--{b.title}" for b in held_out]
        counts = {a: sum(1 for x, _ in passages if x == a) for a, _ in passages}
        summary = {
            "test": asdict(test),
            "held_out_books": names,
            "passages": counts,
            "stuffing_markers": markers,
            "topic_nouns": nouns,
            "policy_prompts": {
                "service": len({t.prompt for t in policy_training}),
                "held_out": len({t.prompt for t in policy_held_out}),
            },
            "results": [asdict(r) for r in results],
        }
        (staging / "authorship.json").write_text(json.dumps(summary, indent=2) + "\n")
        (staging / "authorship.md").write_text(format_results(results, names, counts))
    return results


def _score(
    books_dir: Path,
    negatives: list[Path],
    policy_files: list[Path],
    model: str | None,
    classifier: bool,
    author: str,
    passages: list[tuple[str, str]],
    cache_dir: Path | None,
    backend: str,
) -> np.ndarray:
    from services.style.scorer import StyleScorer
    from shared.schemas import ScoreRequest

    settings = StyleSettings(
        books_dir=books_dir,
        negative_texts=negatives,
        policy_texts=policy_files,
        model=model,
        classifier=classifier,
        default_profile=author,
        backend=backend,
    )
    if cache_dir:
        settings = settings.model_copy(update={"cache_dir": cache_dir})
    scorer = StyleScorer(settings)
    scorer.load()
    texts = [p for _, p in passages]

    async def score_all() -> list[float]:
        scores: list[float] = []
        try:
            for start in range(0, len(texts), SCORE_BATCH):
                request = ScoreRequest(texts=texts[start : start + SCORE_BATCH], profile=author)
                scores += (await scorer.score(request)).scores
        finally:
            await scorer.aclose()
        return scores

    return np.array(asyncio.run(score_all()))


def _result(
    model: str | None,
    classifier: bool,
    author: str,
    passages: list[tuple[str, str]],
    scores: np.ndarray,
) -> AuthorshipResult:
    owners = np.array([a for a, _ in passages])
    own = scores[owners == author]
    others = sorted(set(owners.tolist()) - {author, "llm", *DERIVED})
    other_authors = scores[np.isin(owners, others)]
    llm = scores[owners == "llm"]
    stuffed = scores[owners == STUFFED]
    rise = stuffed - llm  # each LLM passage and its stuffed copy, in the same order
    topic = scores[owners == TOPIC_STUFFED]
    policy, nouns = scores[owners == POLICY], scores[owners == POLICY_NOUNS]
    retyped = np.concatenate(
        [scores[owners == AUTHOR_RETYPED] - own, scores[owners == LLM_RETYPED] - llm]
    )
    short = scores[owners == SHORT]
    return AuthorshipResult(
        variant=("encoder + n-gram classifier" if classifier else "encoder discriminant"),
        model=model or "embedded all-MiniLM-L6-v2",
        classifier=classifier,
        auc_vs_authors=roc_auc(own, other_authors),
        auc_vs_llm=roc_auc(own, llm) if len(llm) else None,
        auc_per_author={o: roc_auc(own, scores[owners == o]) for o in others},
        mean_score={o: float(scores[owners == o].mean()) for o in sorted(set(owners.tolist()))},
        auc_vs_stuffed=roc_auc(own, stuffed) if len(stuffed) else None,
        stuffing_rise_mean=float(rise.mean()) if len(rise) else None,
        stuffing_rise_p95=float(np.quantile(rise, 0.95)) if len(rise) else None,
        topic_rise_mean=float((topic - llm).mean()) if len(topic) else None,
        auc_vs_policy=roc_auc(own, policy) if len(policy) else None,
        policy_above_half=float((policy > 0.5).mean()) if len(policy) else None,
        auc_vs_policy_nouns=roc_auc(own, nouns) if len(nouns) else None,
        policy_nouns_above_half=float((nouns > 0.5).mean()) if len(nouns) else None,
        typography_move_max=float(np.abs(retyped).max()) if len(retyped) else None,
        short_max=float(short.max()) if len(short) else None,
        author=author,
    )
