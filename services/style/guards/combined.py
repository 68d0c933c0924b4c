"""What multiplies a style score after the encoder and classifier: copying, non-prose, and
repetition.

- **Copy guard**: the share of a text's words inside long word runs of the profile's books (or
  of the row's reference), past an allowance, costs score (`services.style.guards.copy`).
- **Prose guard**: the encoder and the n-gram classifier can be fooled by text that is not
  prose at all. Measured without this guard against the Twain profile: random tokens scored
  0.60-0.99, shuffled words of a Twain book 0.96-1.00, "reckon" 300 times 0.99, runs of
  punctuation 0.999. Prose mostly reuses word trigrams someone has written before: the share of
  a text's words inside a trigram found anywhere in the books or negative texts was 0.31-0.72 for
  220-420-word passages of held-out books and of held-out LLM paragraphs, 0.04-0.12 for shuffled
  words and 0 for the rest. The score is multiplied by a ramp from 0 at `prose_known_floor` (0.10)
  to 1 at `prose_known_full` (0.25).
- **Repetition guard**: the same trigrams, so passing the prose guard, repeated as lists of
  adjectives ("the most beautiful, and the most exquisite, and the most splendid, ...") scored
  0.30-0.52 against a mean of 0.25 on the learning recipe's trained stories (held out), and GRPO
  wrote more of them every step (up to 4 of 16 by step 29). The share of a stretch's word pairs
  (lowercased) that repeat an earlier pair of the same stretch was 0.31-0.70 for those stories;
  for 300-word stretches of the corpus' books the median was 0.05-0.06 and the highest of 6,600
  0.23 (Twain's), for the base model's stories at most 0.21. Each stretch of about
  `repetition_window_words` (300) multiplies its share of the score by a ramp from 1 at
  `repetition_threshold` (0.22) to 0 at `repetition_full` (0.45).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from services.style.guards.copy import (
    CopyIndex,
    CopyReport,
    book_key,
    build_copy_index,
    copy_report,
)
from services.style.settings import StyleSettings
from shared.book_folder import Book
from shared.text import repetition_ratio, words

PROSE_KEY = "prose"


@dataclass(frozen=True)
class GuardReport:
    """One text's copy, prose and repetition measures and the factor its score is multiplied
    by (None: that guard is off)."""

    copy: CopyReport | None
    known_ngram_fraction: float | None
    prose_factor: float | None
    repeated_bigram_fraction: float | None = None
    repetition_factor: float | None = None
    copied_from: str | None = None  # the profile's book the copied words come from most

    @property
    def factor(self) -> float:
        """The product of the guards' factors, in [0, 1]."""
        factors = [self.copy.penalty_factor if self.copy else None]
        factors += [self.prose_factor, self.repetition_factor]
        return float(np.prod([f for f in factors if f is not None]))


class TextGuards:
    """The copy and prose guards of a loaded style service (each may be off)."""

    def __init__(
        self,
        settings: StyleSettings,
        copy_index: CopyIndex | None,
        prose_index: CopyIndex | None,
        books: list[Book] | None = None,
    ) -> None:
        self._settings = settings
        self._copy_index = copy_index
        self._prose_index = prose_index
        # Each author's books as the copy index keys them, with their titles.
        self._titles_of: dict[str, dict[str, str]] = {}
        for book in books or []:
            self._titles_of.setdefault(book.author, {})[book_key(book)] = book.title

    @classmethod
    def build(cls, settings: StyleSettings, books: list[Book], negatives: list[Book]) -> TextGuards:
        """Index the books (whole: quoting a name is still quoting) as the settings ask.

        Rebuilt at every load rather than cached: a few seconds and ~8 bytes per n-gram.
        """
        copy_index = (
            build_copy_index(books, settings.copy_ngram_words) if settings.copy_guard else None
        )
        prose_index = None
        if settings.prose_guard:
            prose_index = CopyIndex(settings.prose_ngram_words)
            prose_index.add(PROSE_KEY, [book.read_text() for book in [*books, *negatives]])
        return cls(settings, copy_index, prose_index, books)

    def reports(
        self, texts: list[str], references: list[str] | None, target: str
    ) -> list[GuardReport]:
        """Each text's guard report against the `target` profile, or its own reference."""
        return [
            self._report(text, None if references is None else references[i], target)
            for i, text in enumerate(texts)
        ]

    def describe(self) -> dict[str, Any]:
        """The guards' settings and index sizes, for `/info`."""
        settings = self._settings
        return {
            "copy_guard": {
                "ngram_words": settings.copy_ngram_words,
                "allowance": settings.copy_allowance,
                "penalty": settings.copy_penalty,
                "indexed_ngrams": self._copy_index.nbytes // 8,
            }
            if self._copy_index
            else None,
            "prose_guard": {
                "ngram_words": settings.prose_ngram_words,
                "known_floor": settings.prose_known_floor,
                "known_full": settings.prose_known_full,
                "indexed_ngrams": self._prose_index.nbytes // 8,
            }
            if self._prose_index
            else None,
            "repetition_guard": {
                "window_words": settings.repetition_window_words,
                "threshold": settings.repetition_threshold,
                "full": settings.repetition_full,
            }
            if settings.repetition_guard
            else None,
        }

    def _report(self, text: str, reference: str | None, target: str) -> GuardReport:
        settings = self._settings
        copy = copied_from = None
        if self._copy_index is not None:
            index, key = self._copy_index, target
            if reference is not None:
                index, key = CopyIndex(settings.copy_ngram_words), "reference"
                index.add(key, [reference])
            copy = copy_report(
                index.copied_mask(key, text),
                allowance=settings.copy_allowance,
                penalty=settings.copy_penalty,
            )
            if copy.copied_fraction > 0 and reference is None:
                titles = self._titles_of.get(target, {})
                source = index.most_copied(sorted(titles), text)
                copied_from = titles[source] if source is not None else None
        known = factor = None
        if self._prose_index is not None:
            mask = self._prose_index.copied_mask(PROSE_KEY, text)
            known = float(mask.mean()) if mask.size else 0.0
            ramp = (known - settings.prose_known_floor) / (
                settings.prose_known_full - settings.prose_known_floor
            )
            factor = min(1.0, max(0.0, ramp))
        repeated = repetition = None
        if settings.repetition_guard:
            repeated, repetition = repetition_report(
                text,
                window_words=settings.repetition_window_words,
                threshold=settings.repetition_threshold,
                full=settings.repetition_full,
            )
        return GuardReport(
            copy=copy,
            known_ngram_fraction=known,
            prose_factor=factor,
            repeated_bigram_fraction=repeated,
            repetition_factor=repetition,
            copied_from=copied_from,
        )


def repetition_report(
    text: str, *, window_words: int, threshold: float, full: float
) -> tuple[float, float]:
    """The text's repeated word-pair fraction and its repetition factor: each measured in
    `round(words / window_words)` near-equal stretches (at least one), averaged by words.

    >>> repetition_report("the cat sat on the mat", window_words=300, threshold=0.1, full=0.3)
    (0.0, 1.0)
    >>> looping = "and the most splendid, " * 10  # 39 pairs, 4 distinct
    >>> repetition_report(looping, window_words=300, threshold=0.22, full=0.45) == (35 / 39, 0.0)
    True
    >>> fresh = " ".join(f"word{i}" for i in range(40))
    >>> fraction, factor = repetition_report(
    ...     f"{fresh} {looping}", window_words=40, threshold=0.22, full=0.45
    ... )
    >>> round(fraction, 4), factor  # one stretch without repeats, one looping
    (0.4487, 0.5)
    """
    tokens = [word.lower() for word in words(text)]
    count = max(1, round(len(tokens) / window_words))
    stretches = np.array_split(np.array(tokens, dtype=object), count)
    sizes = np.array([len(stretch) for stretch in stretches], dtype=float)
    fractions = np.array([repetition_ratio(list(stretch), 2) for stretch in stretches])
    factors = np.clip((full - fractions) / (full - threshold), 0.0, 1.0)
    if sizes.sum() == 0:
        return 0.0, 1.0
    return float(np.average(fractions, weights=sizes)), float(np.average(factors, weights=sizes))
