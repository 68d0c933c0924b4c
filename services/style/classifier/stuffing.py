"""Stuffing: an author's telltale words sprinkled into someone else's prose.

A reward for sounding like an author can be gamed by inserting the author's dialect words
("warn't", "reckon", "yonder") into prose that is otherwise nothing like the author. The n-gram
classifier is the part of the style score most exposed to it, since those words are among its
strongest features. Its training therefore adds stuffed copies of other authors' windows,
labelled as theirs, with the target author's most distinctive words inserted every ~15 words:
the classifier learns that the words alone, out of their context, are not the author. The
authorship evaluator (`stylegrpo eval-authorship`) measures the attack on held-out books.

>>> import random
>>> stuff("one two three four five six", ["reckon"], random.Random(0), every=2)
'one two reckon three four reckon five six reckon'
>>> texts = {"a": ["warn't it so warn't it"], "b": ["it is so"]}
>>> distinctive_words(texts, "a", 2, min_count=1)
["warn't", 'it']
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

# Words as the classifier's word features see them: apostrophes inside words kept.
_WORD = re.compile(r"\b\w[\w']*\b")
STUFFING_EVERY_WORDS = 15
DISTINCTIVE_WORDS = 40
# A distinctive word must occur this often in the author's text: rarer ones are noise.
MIN_COUNT = 5


def stuff(text: str, markers: Sequence[str], rng: random.Random, *, every: int) -> str:
    """`text` with a random marker after every `every` words (give or take a fifth)."""
    spread = every // 5
    out: list[str] = []
    gap, count = rng.randint(every - spread, every + spread), 0
    for word in text.split(" "):
        out.append(word)
        count += bool(word.strip())
        if count >= gap:
            out.append(rng.choice(markers))
            gap, count = rng.randint(every - spread, every + spread), 0
    return " ".join(out)


def distinctive_words(
    texts_by_author: Mapping[str, Sequence[str]],
    author: str,
    top: int = DISTINCTIVE_WORDS,
    *,
    min_count: int = MIN_COUNT,
) -> list[str]:
    """The `top` words most over-used by `author` against everyone else, by smoothed log-odds
    of their rates, among words the author uses at least `min_count` times."""
    own: Counter[str] = Counter()
    rest: Counter[str] = Counter()
    for name, texts in texts_by_author.items():
        counts = own if name == author else rest
        for text in texts:
            counts.update(w.lower() for w in _WORD.findall(text))
    return most_over_used(own, rest, top, lambda word, count: count >= min_count)


def most_over_used(
    own: Counter[str], rest: Counter[str], top: int, eligible: Callable[[str, int], bool]
) -> list[str]:
    """The `top` eligible words of `own` by smoothed log-odds of their rate in `own` against
    their rate in `rest` (add-one, over the joint vocabulary); ties by the word.

    >>> most_over_used(Counter(a=3, b=1, c=2), Counter(b=5, c=1), 2, lambda w, n: True)
    ['a', 'c']
    """
    own_total, rest_total = sum(own.values()), sum(rest.values())
    vocabulary = len(own | rest)
    ratio = {
        word: math.log((count + 1) / (own_total + vocabulary))
        - math.log((rest[word] + 1) / (rest_total + vocabulary))
        for word, count in own.items()
        if eligible(word, count)
    }
    return sorted(ratio, key=lambda w: (-ratio[w], w))[:top]
