"""The stylometric measure: Delta on crafted texts, then held-out books of the corpus."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import pytest

from trainer.evaluation import stylometry
from trainer.evaluation.stylometry import FUNCTION_WORDS, StylometryProfile

# Two crafted "authors" with opposite habits in the same function words, and the same topic.
ANN = "The captain and the mate sat upon the deck, and the river ran on and the night came. " * 30
BO = "A captain of a boat, a mate of a raft; of course it was a night of rain for a river. " * 30


def test_doctests_pass() -> None:
    assert doctest.testmod(stylometry).failed == 0


def test_a_text_is_nearest_the_author_whose_habits_it_shares() -> None:
    profile = StylometryProfile.from_texts(
        {"ann": [ANN], "bo": [BO]}, "ann", top_words=10, segment_words=40
    )
    ann_like, bo_like = profile.measure(
        [
            "The boy and the dog ran upon the hill, and the sun went down and the wind rose.",
            "A boy of a town, a dog of a farm; of an evening it was a walk for a mile.",
        ]
    )
    assert ann_like.closeness > 0.5 > bo_like.closeness
    assert ann_like.delta < bo_like.delta
    assert ann_like.rival_delta > ann_like.delta
    assert ann_like.words == 18


def test_the_vocabulary_is_function_words_only() -> None:
    names = "Huck and Tom and Huck met Tom at the river, and Huck said the raft was gone. " * 40
    profile = StylometryProfile.from_texts(
        {"ann": [names], "bo": [BO]}, "ann", top_words=50, segment_words=40
    )
    assert {"huck", "tom", "raft", "river"}.isdisjoint(profile.vocabulary)
    assert set(profile.vocabulary) <= FUNCTION_WORDS
    assert profile.vocabulary[:2] == ("and", "the")


def test_texts_without_words_get_nan_and_others_a_value() -> None:
    profile = StylometryProfile.from_texts({"ann": [ANN], "bo": [BO]}, "ann", segment_words=40)
    empty, punctuation, text = profile.measure(["", " -- !", "The night and the river."])
    assert math.isnan(empty.closeness) and math.isnan(empty.delta) and empty.words == 0
    assert math.isnan(punctuation.closeness)
    assert 0.0 <= text.closeness <= 1.0 and 0.0 <= text.delta <= 2.0


def test_bad_inputs_say_what_is_missing() -> None:
    with pytest.raises(ValueError, match=r"no texts by 'cy'.*'ann', 'bo'"):
        StylometryProfile.from_texts({"ann": [ANN], "bo": [BO]}, "cy")
    with pytest.raises(ValueError, match="at least one other author"):
        StylometryProfile.from_texts({"ann": [ANN]}, "ann")
    with pytest.raises(ValueError, match=r"\['bo'\] have no text with 1000 words"):
        StylometryProfile.from_texts({"ann": [ANN * 5], "bo": ["too short"]}, "ann")


def test_an_empty_books_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no AUTHOR--TITLE\.txt books"):
        StylometryProfile.from_books(tmp_path, "mark-twain")


@pytest.fixture(scope="module")
def twain_profile(profile_books: Path) -> StylometryProfile:
    """Mark Twain against the other corpus authors, without the two held-out books."""
    return StylometryProfile.from_books(profile_books, "mark-twain")


@pytest.mark.parametrize("words", [400, 1500])
def test_held_out_twain_is_nearer_twain_than_held_out_conan_doyle(
    twain_profile: StylometryProfile,
    twain_passages: list[str],
    doyle_passages: list[str],
    words: int,
) -> None:
    twain = twain_profile.measure([" ".join(p.split()[:words]) for p in twain_passages])
    doyle = twain_profile.measure([" ".join(p.split()[:words]) for p in doyle_passages])
    assert min(s.closeness for s in twain) > 0.5 > max(s.closeness for s in doyle)
    assert max(s.delta for s in twain) < min(s.delta for s in doyle)
    assert twain_profile.authors == ("arthur-conan-doyle", "mark-twain", "pg-wodehouse")


def test_generic_llm_prose_is_further_from_twain_than_twain(
    twain_profile: StylometryProfile, twain_passages: list[str], negative_texts: list[Path]
) -> None:
    if not negative_texts:
        pytest.skip("no generic prose: set STYLEGRPO_NEGATIVE_TEXTS")
    lines = negative_texts[0].read_text(encoding="utf-8").splitlines()
    paragraphs = [json.loads(line)["text"] for line in lines[:200]]
    generic = twain_profile.measure(
        [" ".join(paragraphs[i : i + 20]) for i in range(0, len(paragraphs), 20)]
    )
    twain = twain_profile.measure(twain_passages)
    mean_generic = sum(s.closeness for s in generic) / len(generic)
    assert mean_generic < 0.5 < min(s.closeness for s in twain)
