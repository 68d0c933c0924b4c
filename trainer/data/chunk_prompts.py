"""The author's own book chunks as SFT pairs: an opening in the prompt, the rest as completion.

Why a self-supervised source: the original's SFT stories were written by another LLM, so they
teach the task (a long story, ending with `THE END.`) more than the voice. A chunk of the
author's own book is the voice itself, needs no generator, and every book gives hundreds. Each
chunk's first sentences go into the project's plot-prompt template (trainer/grpo/prompts.py) as the
plot - "what happens after this opening: ..." - and the rest of the chunk is the completion, so
the model sees the very prompt layout, length cue and end marker that GRPO will use, and learns
to continue a scene the way the author would. A chunk is a passage, not a whole story, so mix
these records with real stories when the model should also learn to plan an ending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from shared.text import words
from trainer.grpo.prompts import TEMPLATE

_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)]*(?=\s)")
WORDS_CUE_STEP = 10  # the prompt asks for "about N words", N rounded to this


@dataclass(frozen=True)
class ChunkPair:
    """One chunk as a prompt text, its continuation, and the book it came from."""

    prompt: str
    continuation: str
    title: str


def split_opening(text: str, opening_words: int) -> tuple[str, str]:
    """The chunk's first whole sentences (at least one, within `opening_words` if they fit),
    and the rest of the chunk.

    >>> split_opening("It rained. We stayed in.\\n\\nThen the river rose.", 4)
    ('It rained.', 'We stayed in.\\n\\nThen the river rose.')
    >>> split_opening('He said, "Go home." She left.', 5)
    ('He said, "Go home."', 'She left.')
    >>> split_opening("One long sentence without an end", 2)
    ('One long sentence without an end', '')
    """
    first, _, after = text.strip().partition("\n\n")
    sentences = _sentences(first)
    if not sentences:
        return "", ""
    taken, count = [sentences[0]], len(words(sentences[0]))
    for sentence in sentences[1:]:
        count += len(words(sentence))
        if count > opening_words:
            break
        taken.append(sentence)
    opening = " ".join(taken)
    rest_of_paragraph = " ".join(sentences[len(taken) :])
    rest = "\n\n".join(part for part in (rest_of_paragraph, after.strip()) if part)
    return opening, rest


def _sentences(paragraph: str) -> list[str]:
    bounds = [0, *(match.end() for match in _SENTENCE_END.finditer(paragraph)), len(paragraph)]
    return [text for a, b in pairwise(bounds) if (text := paragraph[a:b].strip())]


def chunk_pairs(
    chunks: list[dict[str, Any]], author: str, author_name: str, opening_words: int
) -> list[ChunkPair]:
    """A prompt/continuation pair per chunk of `author` that has text after its opening."""
    pairs = []
    for chunk in chunks:
        if chunk["author"] != author:
            continue
        opening, rest = split_opening(chunk["text"], opening_words)
        if not words(rest):
            continue
        cue = max(WORDS_CUE_STEP, round(len(words(rest)) / WORDS_CUE_STEP) * WORDS_CUE_STEP)
        plot = f'what happens after this opening: "{opening}"'
        prompt = TEMPLATE.format(plot=plot, author=author_name, words=cue)
        pairs.append(ChunkPair(prompt=prompt, continuation=rest, title=str(chunk["title"])))
    return pairs
