"""The copy guard on crafted texts: verbatim, partly copied, re-punctuated and original."""

from __future__ import annotations

import numpy as np
import pytest

from services.style.guards.copy import CopyIndex, CopyReport, copy_report, words_of

SOURCE = (
    "It was a fine morning on the river when the pilot called out the depth, and the whole crew "
    "stood along the rail watching the sandbar slide past the bow. Nobody spoke; the captain "
    "chewed his cigar and looked at the sky as though it owed him money. Then the boat shivered, "
    "the wheel spun loose, and every man aboard knew we had struck the bar after all."
)
ORIGINAL = (
    "Grandmother kept her recipes in a tin box that smelled of cinnamon, and on rainy afternoons "
    "she let the children sort the cards by colour while the kettle complained on the stove. "
    "None of them could read her handwriting, which looped like a telephone cord, but they "
    "invented dishes from the shapes and argued about which ones she would actually cook."
)


def index_of(*texts: str, n: int = 8) -> CopyIndex:
    index = CopyIndex(n)
    index.add("author", list(texts))
    return index


def report(index: CopyIndex, text: str) -> CopyReport:
    return copy_report(index.copied_mask("author", text), allowance=0.05, penalty=2.0)


def test_a_verbatim_copy_is_fully_copied_and_zeroed() -> None:
    result = report(index_of(SOURCE, ORIGINAL), SOURCE)
    assert result.copied_fraction == 1.0
    assert result.longest_copied_words == len(words_of(SOURCE))
    assert result.penalty_factor == 0.0


def test_original_writing_is_not_copied() -> None:
    result = report(index_of(SOURCE), ORIGINAL)
    assert result.copied_fraction == 0.0 and result.longest_copied_words == 0
    assert result.penalty_factor == 1.0


def test_half_a_copy_is_half_copied_with_the_longest_span_exact() -> None:
    half = len(words_of(ORIGINAL))
    text = f"{ORIGINAL} {' '.join(SOURCE.split()[:half])}"
    result = report(index_of(SOURCE), text)
    assert result.longest_copied_words == half
    assert result.copied_fraction == 0.5


def test_case_and_punctuation_changes_are_still_copies() -> None:
    disguised = SOURCE.upper().replace(",", "").replace(";", ".").replace(".", " -- ")
    assert report(index_of(SOURCE), disguised).copied_fraction == 1.0


def test_runs_shorter_than_the_ngram_are_not_copies() -> None:
    seven = " ".join(SOURCE.split()[:7])
    text = f"{seven} {ORIGINAL}"
    assert report(index_of(SOURCE), text).copied_fraction == 0.0
    assert report(index_of(SOURCE, n=4), text).longest_copied_words == 7


def test_the_allowance_and_the_penalty_formula() -> None:
    mask = np.zeros(100, dtype=np.bool_)
    mask[10:30] = True  # 20% copied
    assert copy_report(mask, allowance=0.05, penalty=2.0).penalty_factor == pytest.approx(0.7)
    assert copy_report(mask, allowance=0.25, penalty=2.0).penalty_factor == 1.0
    assert copy_report(mask, allowance=0.0, penalty=10.0).penalty_factor == 0.0
    mask[50:52] = True
    split = copy_report(mask, allowance=0.05, penalty=2.0)
    assert split.longest_copied_words == 20 and split.copied_fraction == pytest.approx(0.22)


def test_an_empty_text_and_an_unknown_key() -> None:
    index = index_of(SOURCE)
    assert report(index, "").copied_fraction == 0.0
    with pytest.raises(KeyError, match="nothing indexed under 'nobody'"):
        index.copied_mask("nobody", SOURCE)
    with pytest.raises(ValueError, match="at least 2 words"):
        CopyIndex(1)
