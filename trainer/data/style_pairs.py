"""`stylegrpo data build-style-pairs`: scored passage pairs to train the style encoder (stage 1).

Reads a chunks folder (`stylegrpo data chunk`) and files of generic LLM-written prose (JSONL
records with a `text` field, or plain text), cuts passages of whole sentences from each chunk,
and writes a `load_from_disk` DatasetDict (`train`, `validation`, `test`) with columns
`sentence1, sentence2, score, kind, author1, author2, title1, title2` (kinds and scores:
`trainer.data.pair_sampling`), plus `summary.json` naming the books of each split.

Splits are made by book, never by chunk: each author's books are shuffled and dealt to test,
validation and train, so no book has text in two splits (an author with fewer than 3 books
stays in train). Generic prose is split by record ranges: the first records for train, then
validation, then test. As in the original, the test split pairs only unaltered passages.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.book_folder import Book, negative_sources
from shared.files import replaced_folder
from trainer.data.chunking import chunk_book
from trainer.data.cleaning import paragraphs
from trainer.data.pair_sampling import PairMix, PairSampler
from trainer.data.passages import Passage, cut_passages

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
CHUNK_COLUMNS = {"author", "title", "chunk_index", "text"}
# `stylegrpo data chunk`'s default, for a chunks folder written without its summary.json.
DEFAULT_CHUNK_WORDS = 1500
MIN_BOOKS_TO_SPLIT = 3


@dataclass(frozen=True)
class StylePairsSettings:
    """How passages are cut, split and paired."""

    min_words: int = 220
    max_words: int = 420
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    same_author_score: float = 1.0
    replace_ratios: tuple[float, ...] = (0.25, 0.5, 0.75)
    perturbed_share: float = 0.25
    llm_negative_share: float = 0.5
    perturbed_in_test: bool = False
    max_train_pairs: int = 20_000
    max_eval_pairs: int = 2_000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.min_words <= self.max_words:
            raise ValueError(
                f"need 0 < min_words <= max_words, got {self.min_words}, {self.max_words}"
            )
        if not (self.validation_fraction > 0 and self.test_fraction > 0) or (
            self.validation_fraction + self.test_fraction >= 1
        ):
            raise ValueError("validation and test fractions must be > 0 and add up to less than 1")
        if not self.replace_ratios or not all(0 < r < 1 for r in self.replace_ratios):
            raise ValueError(
                f"replace ratios must lie strictly between 0 and 1: {self.replace_ratios}"
            )
        for name in ("perturbed_share", "llm_negative_share", "same_author_score"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.max_train_pairs < 2 or self.max_eval_pairs < 2:
            raise ValueError("max_train_pairs and max_eval_pairs must be at least 2")

    @property
    def mix(self) -> PairMix:
        """The settings the pair sampler reads."""
        return PairMix(
            same_author_score=self.same_author_score,
            replace_ratios=self.replace_ratios,
            perturbed_share=self.perturbed_share,
            llm_negative_share=self.llm_negative_share,
            min_words=self.min_words,
            max_words=self.max_words,
        )


def build_style_pairs(
    chunks_dir: Path, negative_texts: list[Path], out_dir: Path, settings: StylePairsSettings
) -> dict[str, Any]:
    """Write the pair dataset and its summary.json into `out_dir`; return the summary."""
    from datasets import Dataset, DatasetDict

    chunks = _load_chunks(chunks_dir)
    books_of: dict[str, set[str]] = defaultdict(set)
    for author, title in zip(chunks["author"], chunks["title"], strict=True):
        books_of[author].add(title)
    rng = random.Random(settings.seed)
    split_of = assign_books({a: sorted(t) for a, t in books_of.items()}, settings, rng)
    authored = _authored_passages(chunks, split_of, settings)
    chunk_words = _chunk_words(chunks_dir)
    generic: dict[str, list[Passage]] = {split: [] for split in SPLITS}
    titles: dict[str, set[tuple[str, str]]] = {split: set() for split in SPLITS}
    for (author, title), split in split_of.items():
        titles[split].add((author, title))
    for book in negative_sources(negative_texts):
        for split, part in _split_records(book, settings).items():
            if part.records:
                generic[split] += _generic_passages(part, chunk_words, settings)
                titles[split].add((part.author, part.title))
    pairs: dict[str, list[dict[str, Any]]] = {}
    for split in SPLITS:
        sampler = PairSampler(
            authored[split], generic[split], settings.mix, random.Random(f"{settings.seed}:{split}")
        )
        cap = settings.max_train_pairs if split == "train" else settings.max_eval_pairs
        perturbed = split != "test" or settings.perturbed_in_test
        pairs[split] = sampler.sample(cap, perturbed=perturbed, desc=f"{split} pairs")
        if not pairs[split]:
            raise ValueError(
                f"no pairs for the {split} split: it needs passages of at least two authors "
                f"(or one author and negative texts); its books: {sorted(titles[split])}"
            )
    summary = _summary(chunks_dir, negative_texts, settings, authored, generic, titles, pairs)
    with replaced_folder(out_dir) as staging:
        DatasetDict({s: Dataset.from_list(pairs[s]) for s in SPLITS}).save_to_disk(str(staging))
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def assign_books(
    books_of: dict[str, list[str]], settings: StylePairsSettings, rng: random.Random
) -> dict[tuple[str, str], str]:
    """Each (author, title) to a split: per author, shuffled books dealt to test, validation,
    then train; an author with fewer than 3 books keeps them all in train."""
    split_of: dict[tuple[str, str], str] = {}
    for author in sorted(books_of):
        books = list(books_of[author])
        rng.shuffle(books)
        if len(books) < MIN_BOOKS_TO_SPLIT:
            log.warning("%s has %d book(s): all kept in train", author, len(books))
            split_of.update({(author, title): "train" for title in books})
            continue
        test = max(1, round(len(books) * settings.test_fraction))
        validation = max(1, round(len(books) * settings.validation_fraction))
        test = min(test, len(books) - 2)  # leave at least one book each for validation and train
        validation = min(validation, len(books) - test - 1)
        for i, title in enumerate(books):
            split_of[author, title] = (
                "test" if i < test else "validation" if i < test + validation else "train"
            )
    return split_of


def _load_chunks(chunks_dir: Path) -> Any:
    from datasets import load_from_disk

    if not chunks_dir.is_dir():
        raise FileNotFoundError(f"chunks folder {chunks_dir} not found: run `stylegrpo data chunk`")
    chunks = load_from_disk(str(chunks_dir))
    missing = CHUNK_COLUMNS - set(chunks.column_names)
    if missing:
        raise ValueError(
            f"{chunks_dir} lacks the columns {sorted(missing)}: pass a folder written by "
            "`stylegrpo data chunk`"
        )
    return chunks


def _chunk_words(chunks_dir: Path) -> int:
    """The chunk size the chunks were made with, so generic prose is chunked the same way."""
    summary = chunks_dir / "summary.json"
    if summary.is_file():
        return int(json.loads(summary.read_text()).get("max_words", DEFAULT_CHUNK_WORDS))
    return DEFAULT_CHUNK_WORDS


def _authored_passages(
    chunks: Any, split_of: dict[tuple[str, str], str], settings: StylePairsSettings
) -> dict[str, list[Passage]]:
    from tqdm import tqdm

    passages: dict[str, list[Passage]] = {split: [] for split in SPLITS}
    for row in tqdm(chunks, desc="cutting passages", unit="chunk"):
        split = split_of[row["author"], row["title"]]
        passages[split] += cut_passages(
            row["author"], row["title"], row["chunk_index"], row["text"],
            min_words=settings.min_words, max_words=settings.max_words,
        )  # fmt: skip
    return passages


@dataclass(frozen=True)
class _RecordRange:
    author: str
    title: str
    records: list[str]


def _split_records(book: Book, settings: StylePairsSettings) -> dict[str, _RecordRange]:
    """The file's records (JSONL `text` fields, or paragraphs) split into consecutive ranges."""
    if book.path.suffix == ".jsonl":
        lines = book.path.read_text(encoding="utf-8").splitlines()
        try:
            records = [str(json.loads(line)["text"]) for line in lines if line.strip()]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{book.path}: every line must be a JSON object with a text field ({exc})"
            ) from None
    else:
        records = paragraphs(book.read_text())
    count = len(records)
    test = round(count * settings.test_fraction)
    validation = round(count * settings.validation_fraction)
    bounds = {
        "train": (0, count - validation - test),
        "validation": (count - validation - test, count - test),
        "test": (count - test, count),
    }
    return {
        split: _RecordRange(book.author, f"{book.title}[{start}:{end}]", records[start:end])
        for split, (start, end) in bounds.items()
    }


def _generic_passages(
    part: _RecordRange, chunk_words: int, settings: StylePairsSettings
) -> list[Passage]:
    chunks = chunk_book(part.author, part.title, paragraphs("\n\n".join(part.records)), chunk_words)
    bounds = {"min_words": settings.min_words, "max_words": settings.max_words}
    return [
        passage
        for chunk in chunks
        for passage in cut_passages(chunk.author, chunk.title, chunk.index, chunk.text, **bounds)
    ]


def _summary(
    chunks_dir: Path,
    negative_texts: list[Path],
    settings: StylePairsSettings,
    authored: dict[str, list[Passage]],
    generic: dict[str, list[Passage]],
    titles: dict[str, set[tuple[str, str]]],
    pairs: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    return {
        "chunks": str(chunks_dir),
        "negative_texts": [str(p) for p in negative_texts],
        "settings": asdict(settings),
        "splits": {
            split: {
                "pairs": len(pairs[split]),
                "kinds": dict(sorted(Counter(row["kind"] for row in pairs[split]).items())),
                "passages": len(authored[split]),
                "generic_passages": len(generic[split]),
                "titles": [{"author": a, "title": t} for a, t in sorted(titles[split])],
            }
            for split in SPLITS
        },
    }
