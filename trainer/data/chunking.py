"""Pack a book's paragraphs greedily into chunks of at most N words (the original's layout)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.text import words

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")


@dataclass(frozen=True)
class Chunk:
    """Consecutive paragraphs of one book, at most `max_words` words."""

    author: str
    title: str
    index: int
    text: str
    words: int


def chunk_book(author: str, title: str, paragraphs: list[str], max_words: int) -> list[Chunk]:
    """Greedy packing: paragraphs join a chunk while it stays within `max_words`; a paragraph
    longer than that is split at sentence ends first.

    >>> [c.words for c in chunk_book("a", "t", ["one two three.", "four five.", "six."], 5)]
    [5, 1]
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    pieces = [piece for paragraph in paragraphs for piece in _fit(paragraph, max_words)]
    chunks: list[Chunk] = []
    current: list[str] = []
    count = 0
    for piece in pieces:
        size = len(words(piece))
        if current and count + size > max_words:
            chunks.append(Chunk(author, title, len(chunks), "\n\n".join(current), count))
            current, count = [], 0
        current.append(piece)
        count += size
    if current:
        chunks.append(Chunk(author, title, len(chunks), "\n\n".join(current), count))
    return chunks


def _fit(paragraph: str, max_words: int) -> list[str]:
    """The paragraph, or its sentences regrouped (and over-long sentences cut at words)."""
    if len(words(paragraph)) <= max_words:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        tokens = sentence.split()
        while tokens:
            part, tokens = _take(tokens, max_words)
            pieces.append(part)
    return pieces


def _take(tokens: list[str], max_words: int) -> tuple[str, list[str]]:
    taken: list[str] = []
    while tokens and len(words(" ".join([*taken, tokens[0]]))) <= max_words:
        taken.append(tokens.pop(0))
    if not taken:  # one token with more words than allowed (e.g. hyphen chains): keep it whole
        taken.append(tokens.pop(0))
    return " ".join(taken), tokens
