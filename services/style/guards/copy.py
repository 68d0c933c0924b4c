"""The copy guard: how much of a text repeats long word sequences of an author's books.

A policy rewarded for sounding like an author can learn to quote the author. Every run of
`ngram_words` consecutive words (lowercased, punctuation ignored) of the books is hashed into a
sorted array; a text's words covered by any such run are counted as copied. The index is rebuilt
at every load: hashing a million words takes about a second and 8 bytes per n-gram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shared.book_folder import Book

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Odd 64-bit multiplier of the polynomial hash; arithmetic wraps modulo 2**64 on purpose.
MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
UNKNOWN = 0  # id of a word absent from every indexed text: no indexed n-gram can contain it


@dataclass(frozen=True)
class CopyReport:
    """How much of one text repeats indexed n-grams, and what that costs its score."""

    copied_fraction: float
    longest_copied_words: int
    penalty_factor: float


def words_of(text: str) -> list[str]:
    """The text's words, lowercased, punctuation dropped (apostrophes inside words kept)."""
    return WORD.findall(text.replace("\u2019", "'").lower())


class CopyIndex:
    """Hashed word n-grams of some texts, for finding which words of another text repeat them."""

    def __init__(self, ngram_words: int) -> None:
        if ngram_words < 2:
            raise ValueError(f"copy-guard n-grams need at least 2 words, got {ngram_words}")
        self.ngram_words = ngram_words
        self._vocabulary: dict[str, int] = {}
        self._hashes: dict[str, NDArray[np.uint64]] = {}

    def add(self, key: str, texts: list[str]) -> None:
        """Index every n-gram of `texts` under `key` (e.g. an author)."""
        parts = [self._hash_ngrams(self._ids(words_of(t), grow=True)) for t in texts]
        merged = np.concatenate([np.zeros(0, dtype=np.uint64), *parts])
        if key in self._hashes:
            merged = np.concatenate([self._hashes[key], merged])
        self._hashes[key] = np.unique(merged)

    def add_union(self, key: str, keys: list[str]) -> None:
        """Index under `key` every n-gram indexed under any of `keys` (no text hashed again)."""
        parts = [self._hashes[k] for k in keys]
        self._hashes[key] = np.unique(np.concatenate([np.zeros(0, dtype=np.uint64), *parts]))

    def most_copied(self, keys: list[str], text: str) -> str | None:
        """Which of `keys` covers the most words of `text` (None when none covers any)."""
        covered = {key: int(self.copied_mask(key, text).sum()) for key in keys}
        best = max(covered, key=lambda key: covered[key], default=None)
        return best if best is not None and covered[best] > 0 else None

    @property
    def keys(self) -> list[str]:
        """The keys indexed so far."""
        return sorted(self._hashes)

    @property
    def nbytes(self) -> int:
        """Bytes held by the hash arrays (the vocabulary dict comes on top)."""
        return sum(h.nbytes for h in self._hashes.values())

    def copied_mask(self, key: str, text: str) -> NDArray[np.bool_]:
        """Per word of `text` (as `words_of` splits it): whether an indexed n-gram covers it."""
        if key not in self._hashes:
            raise KeyError(f"nothing indexed under {key!r}; indexed: {', '.join(self.keys)}")
        ids = self._ids(words_of(text), grow=False)
        hashes = self._hash_ngrams(ids)
        if hashes.size == 0:
            return np.zeros(ids.size, dtype=np.bool_)
        index = self._hashes[key]
        found = np.searchsorted(index, hashes)
        hit = (found < index.size) & (index[np.minimum(found, index.size - 1)] == hashes)
        # Unknown words make no n-gram of the books: mask them out of every hit.
        known = ids != UNKNOWN
        windows = np.lib.stride_tricks.sliding_window_view(known, self.ngram_words).all(axis=1)
        starts = np.flatnonzero(hit & windows)
        # Mark the n words after each hit start: a difference array, then a running sum.
        delta = np.zeros(ids.size + 1, dtype=np.int64)
        np.add.at(delta, starts, 1)
        np.add.at(delta, starts + self.ngram_words, -1)
        covered: NDArray[np.bool_] = np.cumsum(delta[:-1]) > 0
        return covered

    def _ids(self, words: list[str], *, grow: bool) -> NDArray[np.uint64]:
        vocabulary = self._vocabulary
        if grow:
            for word in words:
                if word not in vocabulary:
                    vocabulary[word] = len(vocabulary) + 1
        return np.fromiter(
            (vocabulary.get(w, UNKNOWN) for w in words), dtype=np.uint64, count=len(words)
        )

    def _hash_ngrams(self, ids: NDArray[np.uint64]) -> NDArray[np.uint64]:
        n = self.ngram_words
        if ids.size < n:
            return np.zeros(0, dtype=np.uint64)
        mixed = ids * MULTIPLIER + np.uint64(0x632BE59BD9B4E019)
        hashes = np.zeros(ids.size - n + 1, dtype=np.uint64)
        for offset in range(n):
            hashes = hashes * MULTIPLIER + mixed[offset : offset + hashes.size]
            hashes ^= hashes >> np.uint64(29)
        return hashes


def copy_report(mask: NDArray[np.bool_], *, allowance: float, penalty: float) -> CopyReport:
    """Copied fraction and longest copied run of a word mask, and the score's penalty factor.

    The factor is `max(0, 1 - penalty * max(0, copied_fraction - allowance))`: common phrases
    up to `allowance` of the words cost nothing, then each further copied word costs `penalty`
    times its share of the text.
    """
    fraction = float(mask.mean()) if mask.size else 0.0
    longest = 0
    if mask.any():
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        longest = int((edges[1::2] - edges[::2]).max())
    factor = max(0.0, 1.0 - penalty * max(0.0, fraction - allowance))
    return CopyReport(copied_fraction=fraction, longest_copied_words=longest, penalty_factor=factor)


def book_key(book: Book) -> str:
    """The key a book's own n-grams are indexed under: `AUTHOR/TITLE`."""
    return f"{book.author}/{book.title}"


def build_copy_index(books: list[Book], ngram_words: int) -> CopyIndex:
    """An index of every book's n-grams under `AUTHOR/TITLE` (to say which book a text copies)
    and, their union, under its author (to measure how much it copies)."""
    index = CopyIndex(ngram_words)
    for book in books:
        index.add(book_key(book), [book.read_text()])
    for author in sorted({book.author for book in books}):
        index.add_union(author, [book_key(book) for book in books if book.author == author])
    return index
