"""Deterministic checks the original put in the judge's prompt, run as code instead.

A check that fails says what it found and how badly, a severity in (0, 1]; the rubric says what
a full failure does to the score (`services.judge.rubrics`). Only the ending is graded: it reads
where the last sentence stops, not whether the last character is a full stop, so an excerpt
that breaks off at "he asked:" is told apart from one cut mid-sentence.

>>> ending("He turned to me and asked:"), ending("I heard him shout, and--\u201d")
(('break', 0.2), ('stop', 0.0))
>>> ending("Nobody saw us"), ending('Then he said, "'), ending("a twenty-")
(('word', 1.0), ('word', 1.0), ('word', 1.0))
>>> ending("I have nothing to do next winter.\\n\\nHARTFORD, July 21, 1889")
('stop', 0.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.author_names import SMALL_WORDS, mentioned_names
from shared.text import repetition_ratio, words

META_PATTERNS = (
    r"<\|[a-z_]+\|>",  # chat-template role tokens
    r"\[/?INST\]",
    r"</?s>",
    r"^\s*(?:assistant|user|system)\s*:",
    r"\bas an ai\b",
    r"\blanguage model\b",
    r"\bhere(?: is|'s|’s) (?:a|the|your) (?:short )?story\b",
    r"\bi hope you enjoy(?:ed)?\b",
    r"\bword count\b",
    r"^\s*(?:sure|certainly)[!,.]",
    # Instructions aimed at the judge reading the story (prompt injection).
    r"\b(?:ignore|disregard|forget)\b[^.\n]{0,40}\b(?:rubric|instructions|system prompt|scoring)\b",
    r"\b(?:answer|respond|reply|output)(?: only)?(?: with)?(?: a| the)?(?: score of)? \d\b",
    r"\b(?:the|this|my|your|its) (?:score|grade|rating|mark)\s*(?:is|should be|must be|will be|=|:)"
    r"\s*\d\b(?!\s*(?:to|-)\s*\d)",
    r"\b(?:(?:note|message|instructions?) (?:to|for) the|dear) (?:judge|grader|evaluator|rater)\b",
    r"\b(?:rate|grade|score) (?:this|the|my) (?:story|text)\b",
    r"\bdeserves? (?:a |an |the )?(?:\d+|top|full|perfect|highest|maximum) (?:score|marks?|grade)",
)
_META = re.compile("|".join(META_PATTERNS), re.IGNORECASE | re.MULTILINE)
# How unfinished a story is, by the mark its last sentence stops at (closing quotes, brackets
# and emphasis aside). A stop or an ellipsis ends it, and so does speech broken off inside
# closed quotes (`and--"`). A dash or a colon breaks off at a clause boundary ("he asked:"):
# an excerpt does that, a finished story rarely should, so a mild cut. A comma or semicolon
# stops at a pause mid-sentence; a word (or an opening quote) stops mid-sentence or mid-word.
ENDING_SEVERITY = {"stop": 0.0, "break": 0.2, "pause": 0.6, "word": 1.0}
_ENDING_FOUND = {
    "break": "breaks off at a dash or colon",
    "pause": "stops at a comma or semicolon",
    "word": "stops mid-sentence",
}
HEADING_WORDS = 12
_CLOSERS = "\"'”’»)]*_"
_QUOTES = "\"'”’»"


@dataclass(frozen=True)
class CheckSettings:
    """What the checks look for."""

    end_marker: str
    forbidden_names: tuple[str, ...]
    repetition_threshold: float
    # Words of the names that count alone (`shared.author_names`).
    telltale_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """Which checks failed for one story, with what they found and how badly."""

    failed: dict[str, str]
    repetition_ratio: float
    severity: dict[str, float] = field(default_factory=dict)
    """Each failed check's severity in (0, 1]; 1 for a check that is not graded."""


def ending(body: str) -> tuple[str, float]:
    """Where the last sentence of `body` stops (a kind of `ENDING_SEVERITY`), and its severity.

    A last line that is a heading, a signature, a dateline or a caption (`HARTFORD, July 21,
    1889`) ends nothing and cuts nothing: the sentence before it decides.
    """
    text = body.rstrip()
    kind = _last_mark(text)
    rest, _, last = text.rpartition("\n")
    if kind != "stop" and rest.strip() and _is_heading(last):
        return ending(rest)
    return kind, ENDING_SEVERITY[kind]


def _last_mark(text: str) -> str:
    end = len(text)
    while end and text[end - 1] in _CLOSERS:
        end -= 1
    closers, before = text[end:], text[:end]
    # A single hyphen after a letter ("twenty-") is a word cut in two, not a dash.
    dash = re.search(r"(?:--|[\u2014\u2013]|(?<![^\W\d_])-)\Z", before) is not None
    if not before or (closers and before[-1].isspace()):
        return "word"  # nothing, or an opening quote: what it opens is missing
    if before[-1] in ".!?\u2026" or (dash and any(q in closers for q in _QUOTES)):
        return "stop"
    if dash or before[-1] == ":":
        return "break"
    if before[-1] in ",;":
        return "pause"
    return "word"


def _is_heading(line: str) -> bool:
    """A caption in brackets, or 2-12 words all capitalised but small ones (`Boots and
    Saddles`); one capitalised word alone is as likely a cut sentence's first word."""
    line = line.strip().strip("*_ ")
    if line[:1] + line[-1:] in ("[]", "()"):
        return True
    found = words(line)
    return (
        2 <= len(found) <= HEADING_WORDS
        and "#" not in line
        and all(w[0].isupper() or w[0].isdigit() or w in SMALL_WORDS for w in found)
    )


def run_checks(story: str, settings: CheckSettings) -> CheckResult:
    """Run every check on `story`; `failed` maps a check's name to what it found."""
    failed: dict[str, str] = {}
    severity: dict[str, float] = {}
    lines = [line.strip() for line in story.strip().splitlines() if line.strip()]
    if not lines or lines[-1] != settings.end_marker:
        failed["end_marker_missing"] = f"the last line is not {settings.end_marker!r}"
    # A last line that is the marker but for case and punctuation ("The End") still ends it.
    ended = bool(lines) and _letters(lines[-1]) == _letters(settings.end_marker)
    body = "\n".join(lines[:-1] if ended else lines)
    kind, how_bad = ending(body)
    if body and how_bad > 0:
        failed["abrupt_ending"] = f"{_ENDING_FOUND[kind]}: {body[-40:]!r}"
        severity["abrupt_ending"] = how_bad
    names = mentioned_names(story, settings.forbidden_names, settings.telltale_words)
    if names:
        failed["forbidden_names"] = ", ".join(names)
    meta = _META.search(story)
    if meta:
        failed["meta_commentary"] = meta.group(0).strip()
    ratio = repetition_ratio([w.lower() for w in words(story)])
    if ratio > settings.repetition_threshold:
        failed["repetition"] = (
            f"{ratio:.2f} of 4-grams repeat (limit {settings.repetition_threshold})"
        )
    return CheckResult(
        failed=failed,
        repetition_ratio=ratio,
        severity={name: severity.get(name, 1.0) for name in failed},
    )


def _letters(line: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", line.lower()))
