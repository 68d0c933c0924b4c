"""Strip what a Project Gutenberg book carries beside the author's prose.

Removed: the Gutenberg header and licence (everything outside the `*** START ... ***` and
`*** END ... ***` lines), bracketed notes and illustration markers, transcriber's notes,
chapter and part headings, and a table of contents at the front. What is left is a list of
paragraphs with their inner line breaks joined.
"""

from __future__ import annotations

import re

_START = re.compile(
    r"^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE | re.IGNORECASE
)
_END = re.compile(r"^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE | re.IGNORECASE)
_BRACKETED = re.compile(
    r"\[(?:Illustration|Footnote|Transcriber|Note|Sidenote)[^\]]*\]", re.IGNORECASE | re.DOTALL
)
_HEADING = re.compile(
    r"^(?:(?:CHAPTER|Chapter|BOOK|Book|PART|Part|VOLUME|Volume)\s+[\dIVXLCDM]+\b.*"
    r"|[IVXLCDM]+\.?|\d+\.?|CONTENTS|Contents|THE END\.?|FOOTNOTES?:?)$"
)
_TRANSCRIBER = re.compile(r"^transcriber'?s note", re.IGNORECASE)


def strip_gutenberg(text: str) -> str:
    """The book between Gutenberg's START and END lines (all of it when they are absent)."""
    start = _START.search(text)
    end = _END.search(text)
    body = text[start.end() if start else 0 : end.start() if end else len(text)]
    return _BRACKETED.sub("", body.replace("\r\n", "\n"))


def paragraphs(text: str) -> list[str]:
    """The book's prose paragraphs, each on one line, without headings or notes.

    >>> book = "CHAPTER I\\n\\nIt was a\\nfine day.\\n\\n[Illustration: a dog]\\n\\nII.\\n\\n"
    >>> paragraphs(book + "Then rain.")
    ['It was a fine day.', 'Then rain.']
    """
    kept = []
    for block in re.split(r"\n\s*\n", strip_gutenberg(text)):
        line = " ".join(block.split())
        if not line or _HEADING.match(line) or _TRANSCRIBER.match(line):
            continue
        if not re.search(r"[a-z]", line):  # titles, bylines and headings in capitals
            continue
        kept.append(line)
    return _without_contents(kept)


def _without_contents(kept: list[str]) -> list[str]:
    """Drop a run of short heading-like lines at the front (a table of contents)."""
    start = 0
    while start < len(kept) and _heading_like(kept[start]):
        start += 1
    return kept[start:] if start < len(kept) else kept


def _heading_like(line: str) -> bool:
    """A short line that does not end a sentence: a title, a chapter heading, a byline."""
    return len(line.split()) < 12 and not line.endswith((".", "!", "?", "”", '"'))
