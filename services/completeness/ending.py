"""Where a story ends: the first line that is the end marker, and what follows it.

>>> ending = split_ending("Once upon a time.\\nTHE END.\\nHope you liked it!", "THE END.")
>>> ending.body, ending.after_marker, ending.marker_last
('Once upon a time.\\n', 'Hope you liked it!', False)
>>> split_ending("Once upon a time.\\n  THE END.  \\n\\n", "THE END.").marker_last
True

A last line that is the marker but for case, spacing and punctuation ("The End.", "**the end**")
is a loose ending: the story ends, without the exact line the task asked for.

>>> loose = split_ending("Once upon a time.\\n\\n*The End*", "THE END.")
>>> loose.body, loose.marker_last, loose.loose_marker_last
('Once upon a time.\\n\\n', False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ending:
    """A text cut at its first end-marker line (the marker alone, give or take whitespace)."""

    body: str
    """The text before the first marker line; all of it when no line is the marker."""
    after_marker: str
    """The text after the first marker line, other marker lines dropped: junk."""
    marker_last: bool
    """Whether the last non-blank line is the marker."""
    loose_marker_last: bool = False
    """Whether the last non-blank line is the marker but for case, spacing and punctuation."""


def split_ending(text: str, marker: str) -> Ending:
    """`text` cut at its first end-marker line."""
    stripped = text.rstrip()
    marker_last = stripped[stripped.rfind("\n") + 1 :].strip() == marker
    line = _first_marker_line(text, marker)
    if line is None:
        last_line = stripped.rfind("\n") + 1
        if not marker_last and _letters(stripped[last_line:]) == _letters(marker):
            return Ending(body=text[:last_line], after_marker="", marker_last=False,
                          loose_marker_last=True)  # fmt: skip
        return Ending(body=text, after_marker="", marker_last=marker_last)
    start, end = line
    tail = text[end:]
    if tail.strip() and marker in tail:
        tail = "\n".join(row for row in tail.splitlines() if row.strip() != marker)
    return Ending(body=text[:start], after_marker=tail.strip(), marker_last=marker_last)


def _first_marker_line(text: str, marker: str) -> tuple[int, int] | None:
    """Start and end (past its newline) of the first line that is `marker`, if any."""
    found = text.find(marker)
    while found != -1:
        start = text.rfind("\n", 0, found) + 1
        end = text.find("\n", found + len(marker))
        end = len(text) if end == -1 else end + 1
        if not text[start:found].strip() and not text[found + len(marker) : end].strip():
            return start, end
        found = text.find(marker, found + len(marker))
    return None


def _letters(line: str) -> str:
    """A line's words in lower case, punctuation and spacing dropped."""
    return " ".join(re.findall(r"[^\W_]+", line.lower()))
