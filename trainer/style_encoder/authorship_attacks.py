"""Cheap attacks on a style score, as the authorship evaluator applies them.

- **Dialect stuffing**: the author's names and the words the author over-uses most (against the
  other authors' held-out books) sprinkled into someone else's prose.
- **Topic stuffing**: the author's most over-represented *content nouns* (river, raft, town...)
  sprinkled in the same way: what a policy learns first when the reward confuses topic with
  voice. A word counts as a noun when most of its occurrences follow a determiner ("the raft",
  "his pipe"), which needs no tagger.
- **Typography**: the same passage in the other typography (curly quotes, em-dashes, one-line
  paragraphs as LLMs write; straight quotes, `--`, wrapped lines as Gutenberg books do).
- **Short texts**: the first words of a passage, too few to tell an author by.

The over-used words are found and inserted as the style service's classifier does for its
stuffed negatives (`services.style.classifier.stuffing`).

>>> llm_typography('"I reckon--it\\'s so..." he said.')
'\u201cI reckon\u2014it\u2019s so\u2026\u201d he said.'
>>> book_typography('\u201cI reckon\u2014it\u2019s so\u2026\u201d he said.')
'"I reckon--it\\'s so..." he said.'
>>> first_words("one two three four", 2)
'one two'
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence

from services.style.classifier.stuffing import distinctive_words, most_over_used
from shared.author_names import load_author_names
from shared.book_folder import Book

TOPIC_NOUNS = 40
_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "his",
        "her",
        "my",
        "your",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "its",
        "every",
        "each",
        "no",
        "some",
    ]
)
_WORD = re.compile(r"[A-Za-z][a-z]+")
# A noun follows a determiner in at least this share of its occurrences.
NOUN_AFTER_DETERMINER = 0.5
MIN_COUNT = 8


def stuffing_markers(held_out: list[Book], author: str) -> list[str]:
    """What a dialect stuffer would sprinkle: the author's names, and the words the author
    over-uses most in the held-out books (against the other held-out books)."""
    texts = _texts_by_author(held_out)
    words = distinctive_words(texts, author) if len(texts) > 1 else []
    names = load_author_names().get(author)
    return [*(names.all if names else ()), *words]


def topic_nouns(held_out: list[Book], author: str, top: int = TOPIC_NOUNS) -> list[str]:
    """The author's `top` most over-represented content nouns in the held-out books."""
    texts = _texts_by_author(held_out)
    return content_nouns(texts, author, top) if len(texts) > 1 else []


def content_nouns(
    texts_by_author: Mapping[str, Sequence[str]], author: str, top: int = TOPIC_NOUNS
) -> list[str]:
    """Lowercase words that mostly follow a determiner, ranked by smoothed log-odds of the
    author's rate against everyone else's.

    >>> texts = {"a": ["the raft and the river. " * 10 + "so it was"], "b": ["the town was so"]}
    >>> content_nouns(texts, "a", 2)
    ['raft', 'river']
    """
    own: Counter[str] = Counter()
    rest: Counter[str] = Counter()
    after_determiner: Counter[str] = Counter()
    for name, texts in texts_by_author.items():
        counts = own if name == author else rest
        for text in texts:
            words = _WORD.findall(text)
            for previous, word in zip(["", *words], words, strict=False):
                if word.islower():
                    counts[word] += 1
                    if previous.lower() in _DETERMINERS and name == author:
                        after_determiner[word] += 1
    return most_over_used(
        own,
        rest,
        top,
        lambda word, count: (
            count >= MIN_COUNT
            and word not in _DETERMINERS
            and after_determiner[word] >= NOUN_AFTER_DETERMINER * count
        ),
    )


def llm_typography(text: str) -> str:
    """`text` typeset as LLMs write: curly quotes and apostrophes, em-dashes, the ellipsis
    character, each paragraph on one line."""
    text = re.sub(r"[ \t]*--+[ \t]*", "\u2014", text)
    text = text.replace("...", "\u2026")
    text = re.sub(r"(?<=\w)'(?=\w)|(?<=\w)'", "\u2019", text)
    text = re.sub(r"'", "\u2018", text)
    text = re.sub(r'"(?=\w|\u2018)', "\u201c", text)
    text = text.replace('"', "\u201d")
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def book_typography(text: str, width: int = 70) -> str:
    """`text` typeset as Gutenberg books are: straight quotes, `--`, `...`, lines wrapped."""
    text = re.sub("[\u201c\u201d]", '"', text)
    text = re.sub("[\u2018\u2019]", "'", text)
    text = re.sub(r"[ \t]*[\u2014\u2013][ \t]*", "--", text).replace("\u2026", "...")
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), width, break_on_hyphens=False, break_long_words=False)
        for p in paragraphs
    )


def first_words(text: str, count: int) -> str:
    """The first `count` words of `text`, joined by single spaces."""
    return " ".join(text.split()[:count])


def _texts_by_author(books: list[Book]) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for book in books:
        texts.setdefault(book.author, []).append(book.read_text())
    return texts
