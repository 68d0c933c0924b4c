"""One typography for every text the style service reads: books, negatives and scored texts.

Typography is not voice, but it is a shortcut: LLM-written prose uses curly quotes, em-dashes
and one-line paragraphs; Gutenberg books mostly straight quotes, `--` and lines wrapped at ~70
characters, with `_underscores_` for italics. Left as they are, the n-gram classifier learns
them and a text scores higher for its quote marks alone. Every text is therefore rewritten to
one form before anything learns from it or scores it:

- double quotes (curly, low, guillemets) -> `"`; single quotes and apostrophes -> `'`;
- em-dash, horizontal bar, `--`, ` - ` between words -> `--` with no space around it;
  en-dash -> `-`;
- the ellipsis character and `. . .` -> `...`;
- `_` and `*` (italics, bold, markdown) dropped;
- every run of spaces, tabs, non-breaking and other Unicode spaces -> one space; a single line
  break (a wrapped line) -> a space; a blank line (a paragraph break) -> `\\n\\n`.

`normalise` also returns, for every character it writes, the offset it came from in the
original, so window spans found in the normalised text are reported in the text as sent.

>>> normalise("\u201cWell\u2014I reckon\u2026\u201d she said.").text
'"Well--I reckon..." she said.'
>>> normalise('"Well -- I reckon. . ."  she\\nsaid.').text
'"Well--I reckon..." she said.'
>>> n = normalise("It\u2019s _so_ \u2014 fine.")
>>> n.text, n.original_span(9, 14), "It’s _so_ — fine."[12:17]
("It's so--fine.", (12, 17), 'fine.')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Part of every cache key over normalised text: change it whenever the rules change.
TYPOGRAPHY_VERSION = 1
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4"
# Used inside character classes only: `\u2000-\u200a` is a range of Unicode spaces.
_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\f\v"
# Each rule: a pattern and what every match becomes. Order matters: paragraph breaks, then
# wrapped lines, then dashes with the spaces around them (a line may be wrapped after `--`),
# then runs of spaces.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\r\n?"), "\n"),
    (re.compile(f"[{_DOUBLE_QUOTES}]"), '"'),
    (re.compile(f"[{_SINGLE_QUOTES}]"), "'"),
    (re.compile("[_*\u200b\u200c\u200d\ufeff]+"), ""),
    (re.compile(r"\u2026|\.(?: \.){2}"), "..."),
    (re.compile(f"[ {_SPACES}]*\n(?:[ {_SPACES}]*\n)+[ {_SPACES}]*"), "\n\n"),
    (re.compile(f"[ {_SPACES}]*(?<!\n)\n(?!\n)[ {_SPACES}]*"), " "),
    (re.compile(f"[ {_SPACES}]*(?:[\u2014\u2015]+|-{{2,}}|(?<=\\w) - (?=\\w))[ {_SPACES}]*"), "--"),
    (re.compile("[\u2013\u2012]"), "-"),
    (re.compile(f"[{_SPACES}][ {_SPACES}]*| {{2,}}"), " "),
]


@dataclass(frozen=True)
class NormalisedText:
    """A text in the house typography, and where each of its characters came from."""

    text: str
    # origin[i]: offset in the original of the character written at i; origin[len(text)] is
    # the original's length.
    origin: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` was written from."""
        return self.origin[start], self._origin_of_end(end)

    def _origin_of_end(self, end: int) -> int:
        if end <= 0:
            return self.origin[0]
        # Just past the original of the last character written: a replaced span ends where
        # the next written character's original starts.
        return self.origin[end] if end < len(self.text) else self.origin[-1]


def normalise(text: str) -> NormalisedText:
    """`text` in the house typography, with the origin of every character."""
    current, origin = text, list(range(len(text) + 1))
    for pattern, replacement in _RULES:
        current, origin = _apply(pattern, replacement, current, origin)
    return NormalisedText(current, origin)


def normalised_text(text: str) -> str:
    """`text` in the house typography (for texts whose offsets nobody reads back)."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _apply(
    pattern: re.Pattern[str], replacement: str, text: str, origin: list[int]
) -> tuple[str, list[int]]:
    """Replace every match; written characters of a replacement take the match's origin."""
    pieces: list[str] = []
    mapped: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        if match.group() == replacement:
            continue
        pieces.append(text[last:start])
        mapped += origin[last:start]
        pieces.append(replacement)
        mapped += [origin[start]] * len(replacement)
        last = end
    if last == 0 and not pieces:
        return text, origin
    pieces.append(text[last:])
    mapped += origin[last:]
    return "".join(pieces), mapped
