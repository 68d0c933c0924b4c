"""Fluency: a story's mean per-token log-likelihood under the judge, calibrated to 0..1.

The calibration is fitted at start-up between well-formed passages (the author's own when a books
folder is given, else a few generic passages shipped with the package) and scrambled copies of
them, so the map depends on the judge model, never on a constant.
"""

from __future__ import annotations

import random
import re
from importlib import resources
from pathlib import Path

from shared.text import words

_SENTENCE = re.compile(r"[^.!?]+[.!?]+[\"'”’)]*")
PASSAGE_WORDS = 120


def scramble(text: str, seed: int = 0) -> str:
    """The same words made incoherent: sentences shuffled, then words shuffled in each sentence.

    Each sentence keeps its final punctuation, so the text still looks finished.

    >>> scramble("The cat sat. A dog ran off quickly!", seed=1)
    'ran off dog A quickly! The sat cat.'
    """
    rng = random.Random(seed)
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()] or [text.strip()]
    rng.shuffle(sentences)
    scrambled = []
    for sentence in sentences:
        match = re.search(r"[.!?]+[\"'”’)]*$", sentence)
        end = match.group(0) if match else ""
        tokens = sentence[: len(sentence) - len(end)].split()
        rng.shuffle(tokens)
        scrambled.append(" ".join(tokens) + end)
    return " ".join(scrambled)


def calibration_passages(books_dir: Path | None, count: int) -> list[str]:
    """Well-formed passages: from the books folder when given, else the packaged ones."""
    if books_dir is None:
        text = (resources.files("services.judge") / "data" / "calibration_passages.txt").read_text(
            encoding="utf-8"
        )
        return [p.strip() for p in text.split("\n\n") if p.strip()][:count]
    books = sorted(books_dir.rglob("*.txt"))
    if not books:
        raise FileNotFoundError(f"no .txt books in {books_dir} to calibrate fluency")
    passages = []
    for i in range(count):
        sentences = _SENTENCE.findall(books[i % len(books)].read_text(encoding="utf-8"))
        start = len(sentences) * (i // len(books) + 1) // (count // len(books) + 2)
        passage: list[str] = []
        for sentence in sentences[start:]:
            passage.append(" ".join(sentence.split()))
            if len(words(" ".join(passage))) >= PASSAGE_WORDS:
                break
        passages.append(" ".join(passage))
    return passages
