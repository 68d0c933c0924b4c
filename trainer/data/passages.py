"""Passages of whole sentences cut from a chunk, and passages with some sentences swapped in.

A passage keeps its sentences and the whitespace after each, so a perturbed copy (some
sentences replaced by another source's) keeps the original's paragraph breaks, and the
fraction replaced is known exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.text import words
from trainer.data.sentences import is_complete, split_sentences


@dataclass(frozen=True)
class Passage:
    """Consecutive whole sentences of one chunk of one book."""

    author: str
    title: str
    chunk_index: int
    sentences: tuple[str, ...]
    gaps: tuple[str, ...]  # the whitespace after each sentence; the last is dropped from text

    @property
    def text(self) -> str:
        """The passage as it reads in the book."""
        return _join(self.sentences, self.gaps)

    @property
    def word_count(self) -> int:
        """Its length in words (as `shared.text.words` counts them)."""
        return len(words(self.text))


@dataclass(frozen=True)
class Perturbed:
    """A passage with `replaced` of its `total` sentences swapped for another source's."""

    text: str
    replaced: int
    total: int

    @property
    def kept_fraction(self) -> float:
        """1 - the fraction of sentences replaced: the pair's style-similarity score."""
        return 1 - self.replaced / self.total


def cut_passages(
    author: str, title: str, chunk_index: int, text: str, *, min_words: int, max_words: int
) -> list[Passage]:
    """Non-overlapping passages of `min_words`..`max_words` words, cut at sentence ends.

    >>> text = "One two three. Four five. Six seven eight nine. Ten."
    >>> [p.text for p in cut_passages("a", "t", 0, text, min_words=5, max_words=6)]
    ['One two three. Four five.', 'Six seven eight nine. Ten.']
    """
    pieces = [(s, g) for s, g in split_sentences(text) if is_complete(s)]
    sizes = [len(words(sentence)) for sentence, _ in pieces]
    passages: list[Passage] = []
    start, total = 0, 0
    for end, size in enumerate(sizes):
        total += size
        while total > max_words:  # too long: drop sentences from the front
            total -= sizes[start]
            start += 1
        if total >= min_words:
            chosen = pieces[start : end + 1]
            passages.append(
                Passage(
                    author=author,
                    title=title,
                    chunk_index=chunk_index,
                    sentences=tuple(s for s, _ in chosen),
                    gaps=tuple(g for _, g in chosen),
                )
            )
            start, total = end + 1, 0
    return passages


def perturb(passage: Passage, donor: Passage, ratio: float, rng: random.Random) -> Perturbed:
    """`passage` with round(ratio x its sentences) of them (at least 1, never all) replaced, at
    random places, by as many of `donor`'s sentences (kept in the donor's order)."""
    total = len(passage.sentences)
    count = replaced_count(total, ratio)
    if len(donor.sentences) < count:
        raise ValueError(f"the donor has {len(donor.sentences)} sentences; {count} are needed")
    places = sorted(rng.sample(range(total), count))
    taken = sorted(rng.sample(range(len(donor.sentences)), count))
    sentences = list(passage.sentences)
    for place, source in zip(places, taken, strict=True):
        sentences[place] = donor.sentences[source]
    return Perturbed(_join(tuple(sentences), passage.gaps), count, total)


def replaced_count(total: int, ratio: float) -> int:
    """How many of `total` sentences a `ratio` replaces: round(ratio x total), at least 1 and
    never all of them (a passage fully replaced is simply another text).

    >>> [replaced_count(4, r) for r in (0.1, 0.25, 0.5, 0.75, 1.0)]
    [1, 1, 2, 3, 3]
    """
    if total < 2:
        raise ValueError(f"a passage needs at least 2 sentences to be perturbed, not {total}")
    return min(total - 1, max(1, round(ratio * total)))


def _join(sentences: tuple[str, ...], gaps: tuple[str, ...]) -> str:
    return "".join(s + g for s, g in zip(sentences, gaps, strict=True)).rstrip()
