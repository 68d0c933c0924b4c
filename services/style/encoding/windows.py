"""Split a text into overlapping, sentence-aligned token windows that cover all of it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Protocol

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a blank line (paragraph break).
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\n\s*\n")


class Tokenizer(Protocol):
    """The part of a Hugging Face fast tokenizer that windowing needs."""

    def __call__(self, text: str, **kwargs: object) -> object: ...


@dataclass(frozen=True)
class Window:
    """A span of a text: character offsets into the text and its token count."""

    start: int
    end: int
    tokens: int


@dataclass(frozen=True)
class WindowedText:
    """A text split into windows, with the fraction of its tokens the windows cover."""

    windows: list[Window]
    total_tokens: int
    coverage: float


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences (or paragraphs) start, always including 0."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]


def split_windows(
    text: str, tokenizer: Tokenizer, *, window_tokens: int, overlap_tokens: int
) -> WindowedText:
    """Cover `text` with windows of at most `window_tokens` tokens, cut at sentence starts.

    Consecutive windows overlap by about `overlap_tokens`; the last window is pushed back to be
    full length so no window is a short, noisy tail.
    """
    if not 0 <= overlap_tokens < window_tokens // 2:
        raise ValueError("overlap_tokens must be in [0, window_tokens / 2)")
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets: list[tuple[int, int]] = encoding["offset_mapping"]  # type: ignore[index]
    n = len(offsets)
    if n == 0:
        return WindowedText(windows=[], total_tokens=0, coverage=1.0)
    token_starts = [start for start, _ in offsets]
    word_starts = _token_indices_at(token_starts, _word_starts(text))
    boundaries = [*_token_indices_at(token_starts, sentence_starts(text)), n]
    spans: list[tuple[int, int]] = []
    start = 0
    while True:
        if start + window_tokens >= n:
            spans.append((_tail_start(n, window_tokens, boundaries, word_starts), n))
            break
        floor = start + (2 * window_tokens) // 3
        end = _cut_before(start + window_tokens, floor, boundaries, word_starts)
        spans.append((start, end))
        start = _next_start(end - overlap_tokens, end, boundaries, word_starts)
    covered = _covered_tokens(spans)
    windows = [Window(start=offsets[a][0], end=offsets[b - 1][1], tokens=b - a) for a, b in spans]
    return WindowedText(windows=windows, total_tokens=n, coverage=covered / n)


def _word_starts(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\S+", text)]


def _token_indices_at(token_starts: list[int], char_offsets: list[int]) -> list[int]:
    """The sorted, unique token indices whose token starts at or after each character offset."""
    return sorted({bisect.bisect_left(token_starts, c) for c in char_offsets})


def _cut_before(limit: int, floor: int, boundaries: list[int], word_starts: list[int]) -> int:
    """The last sentence start in (floor, limit], else the last word start, else `limit`."""
    for candidates in (boundaries, word_starts):
        i = bisect.bisect_right(candidates, limit) - 1
        if i >= 0 and candidates[i] > floor:
            return candidates[i]
    return limit


def _next_start(desired: int, end: int, boundaries: list[int], word_starts: list[int]) -> int:
    """The first sentence start in [desired, end], else the first word start, else `desired`."""
    for candidates in (boundaries, word_starts):
        i = bisect.bisect_left(candidates, desired)
        if i < len(candidates) and candidates[i] <= end:
            return candidates[i]
    return desired


def _tail_start(n: int, window_tokens: int, boundaries: list[int], word_starts: list[int]) -> int:
    """Start of the last window: the first sentence start that leaves it at most full length."""
    earliest = max(0, n - window_tokens)
    return _next_start(earliest, n - 1, boundaries, word_starts)


def _covered_tokens(spans: list[tuple[int, int]]) -> int:
    covered, reach = 0, 0
    for a, b in spans:
        covered += max(0, b - max(a, reach))
        reach = max(reach, b)
    return covered
