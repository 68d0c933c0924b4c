"""Deterministic checks the original put in the judge's prompt, run as code instead."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.author_names import mentioned_names
from shared.text import ends_sentence, repetition_ratio, words

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


@dataclass(frozen=True)
class CheckSettings:
    """What the checks look for."""

    end_marker: str
    forbidden_names: tuple[str, ...]
    repetition_threshold: float


@dataclass(frozen=True)
class CheckResult:
    """Which checks failed for one story, with what they found."""

    failed: dict[str, str]
    repetition_ratio: float


def run_checks(story: str, settings: CheckSettings) -> CheckResult:
    """Run every check on `story`; `failed` maps a check's name to what it found."""
    failed: dict[str, str] = {}
    lines = [line.strip() for line in story.strip().splitlines() if line.strip()]
    if not lines or lines[-1] != settings.end_marker:
        failed["end_marker_missing"] = f"the last line is not {settings.end_marker!r}"
    body = "\n".join(lines[:-1] if lines and lines[-1] == settings.end_marker else lines)
    if body and not ends_sentence(body):
        failed["abrupt_ending"] = f"ends mid-sentence: {body[-40:]!r}"
    names = mentioned_names(story, settings.forbidden_names)
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
    return CheckResult(failed=failed, repetition_ratio=ratio)
