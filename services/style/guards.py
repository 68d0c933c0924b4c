"""What multiplies a style score after the encoder and classifier: copying, and non-prose.

- **Copy guard**: the share of a text's words inside long word runs of the profile's books (or
  of the row's reference), past an allowance, costs score (`services.style.copy_guard`).
- **Prose guard**: the encoder and the n-gram classifier can be fooled by text that is not
  prose at all. Measured without this guard against the Twain profile: random tokens scored
  0.60-0.99, shuffled words of a Twain book 0.96-1.00, "reckon" 300 times 0.99, runs of
  punctuation 0.999. Prose mostly reuses word trigrams someone has written before: the share of
  a text's words inside a trigram found anywhere in the books or negative texts was 0.31-0.72 for
  220-420-word passages of held-out books and of held-out LLM paragraphs, 0.04-0.12 for shuffled
  words and 0 for the rest. The score is multiplied by a ramp from 0 at `prose_known_floor` (0.10)
  to 1 at `prose_known_full` (0.25).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.style.copy_guard import CopyIndex, CopyReport, build_copy_index, copy_report
from services.style.corpus import Book
from services.style.settings import StyleSettings

PROSE_KEY = "prose"


@dataclass(frozen=True)
class GuardReport:
    """One text's copy and prose measures and the factor its score is multiplied by."""

    copy: CopyReport | None
    known_ngram_fraction: float | None
    prose_factor: float | None

    @property
    def factor(self) -> float:
        """The product of the guards' factors, in [0, 1]."""
        copy = self.copy.penalty_factor if self.copy else 1.0
        return copy * (1.0 if self.prose_factor is None else self.prose_factor)


class TextGuards:
    """The copy and prose guards of a loaded style service (each may be off)."""

    def __init__(
        self, settings: StyleSettings, copy_index: CopyIndex | None, prose_index: CopyIndex | None
    ) -> None:
        self._settings = settings
        self._copy_index = copy_index
        self._prose_index = prose_index

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
        return cls(settings, copy_index, prose_index)

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
        }

    def _report(self, text: str, reference: str | None, target: str) -> GuardReport:
        settings = self._settings
        copy = None
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
        known = factor = None
        if self._prose_index is not None:
            mask = self._prose_index.copied_mask(PROSE_KEY, text)
            known = float(mask.mean()) if mask.size else 0.0
            ramp = (known - settings.prose_known_floor) / (
                settings.prose_known_full - settings.prose_known_floor
            )
            factor = min(1.0, max(0.0, ramp))
        return GuardReport(copy=copy, known_ngram_fraction=known, prose_factor=factor)
