"""Why a style score is lower than its windows: each cut, in a sentence a person reads.

The windows' scores say how much each part of a text reads like the author; the text's score is
then cut by how little text there is (the evidence weight) and by the guards (copying, not
prose, repetition). A cut that leaves the score where it was says nothing and is not listed.
"""

from __future__ import annotations

from services.style.guards.combined import GuardReport
from services.style.settings import StyleSettings


def score_reasons(
    *, words: int, evidence: float, guard: GuardReport, settings: StyleSettings, profile: str
) -> list[str]:
    """The reasons, most decisive first, that the text's score is below its windows' score.

    >>> from services.style.guards.copy import CopyReport
    >>> settings = StyleSettings(books_dir=".")
    >>> copied = GuardReport(CopyReport(0.93, 210, 0.0), 0.9, 1.0, copied_from="Roughing It")
    >>> for reason in score_reasons(
    ...     words=226, evidence=1.0, guard=copied, settings=settings, profile="twain"
    ... ):
    ...     print(reason)  # doctest: +NORMALIZE_WHITESPACE
    copied: 93% of its words are in runs of 8 or more words of Roughing It (a twain book), the
    longest 210 words; up to 5% is free: the score is multiplied by 0.00
    >>> short = GuardReport(None, None, None)
    >>> print(score_reasons(words=1, evidence=0.0, guard=short, settings=settings, profile="t")[0])
    ... # doctest: +NORMALIZE_WHITESPACE
    too little text: 1 word; at 30 words or fewer the score is 0.05 whatever the text, and it is
    all the text's own from 150 words
    """
    reasons = []
    copy = guard.copy
    if copy is not None and copy.penalty_factor < 1.0:
        if not profile:
            source = "the reference text"
        elif guard.copied_from:
            source = f"{guard.copied_from} (a {profile} book)"
        else:
            source = f"the {profile} books"
        reasons.append(
            f"copied: {copy.copied_fraction:.0%} of its words are in runs of "
            f"{settings.copy_ngram_words} or more words of {source}, the longest "
            f"{copy.longest_copied_words} words; up to {settings.copy_allowance:.0%} is free: "
            f"{_multiplied(copy.penalty_factor)}"
        )
    if guard.prose_factor is not None and guard.prose_factor < 1.0:
        reasons.append(
            f"not prose: {guard.known_ngram_fraction or 0.0:.0%} of its words are in "
            f"{settings.prose_ngram_words}-word runs that anyone has written before (prose has "
            f"{settings.prose_known_full:.0%} or more): {_multiplied(guard.prose_factor)}"
        )
    if guard.repetition_factor is not None and guard.repetition_factor < 1.0:
        reasons.append(
            f"repetitive: {guard.repeated_bigram_fraction or 0.0:.0%} of its word pairs repeat "
            f"an earlier pair (the score falls from {settings.repetition_threshold:.0%}): "
            f"{_multiplied(guard.repetition_factor)}"
        )
    if evidence <= 0.0:
        reasons.append(
            f"too little text: {words} word{'s' if words != 1 else ''}; at "
            f"{settings.evidence_min_words} words or fewer the score is "
            f"{settings.evidence_prior:g} whatever the text, and it is all the text's own from "
            f"{settings.evidence_full_words} words"
        )
    elif evidence < 1.0:
        reasons.append(
            f"short text: {words} words, so the score keeps {evidence:.0%} of its own evidence "
            f"and leans toward {settings.evidence_prior:g} (all its own from "
            f"{settings.evidence_full_words} words)"
        )
    return reasons


def _multiplied(factor: float) -> str:
    return f"the score is multiplied by {factor:.2f}"
