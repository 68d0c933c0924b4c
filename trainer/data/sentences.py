"""Split prose into sentences, keeping the whitespace after each, so it can be rebuilt exactly.

A sentence ends at `.`, `!`, `?` or `…` (with any closing quotes or brackets) before whitespace,
except after a title or an initial (`Mr. Holmes`, `J. P. Morgan`), so that swapping sentences
between passages never swaps half of a name.

>>> split_sentences('Mr. Brown came. "Who?" she asked.\\n\\nJ. R. left')
[('Mr. Brown came.', ' '), ('"Who?"', ' '), ('she asked.', '\\n\\n'), ('J. R. left', '')]
"""

from __future__ import annotations

import re

from shared.text import ends_sentence

_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(\s+)")
_LONGEST_ABBREVIATION = 6
# Words that end with a stop but almost never end a sentence in 19th- and 20th-century prose.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "messrs", "mme", "mlle", "dr", "st", "mt", "jr", "sr", "col", "gen",
        "capt", "lt", "sgt", "rev", "prof", "hon", "gov", "vs", "cf", "viz", "no", "vol", "ch",
    }
)  # fmt: skip


def split_sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, whitespace after it) in order; joining them all gives `text` back."""
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_abbreviation(text, match):
            continue
        gap_start = match.start(1)
        pieces.append((text[start:gap_start], text[gap_start : match.end()]))
        start = match.end()
    if start < len(text):
        pieces.append((text[start:], ""))
    return pieces


def is_complete(sentence: str) -> bool:
    """Whether `sentence` ends with terminal punctuation (only a text's tail may not)."""
    return ends_sentence(sentence)


def _is_abbreviation(text: str, match: re.Match[str]) -> bool:
    end = match.start()
    if text[end : match.start(1)] != ".":
        return False
    begin = end
    while begin > 0 and text[begin - 1].isalpha():
        begin -= 1
        if end - begin > _LONGEST_ABBREVIATION:
            return False
    word = text[begin:end]
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())
