"""Word counting through the service: a tokenizer rule, not whitespace splitting."""

from __future__ import annotations

from typing import Any

import pytest

HUCK = (
    "Well, I reckon I warn't no more'n a boy -- twelve, maybe -- when the half-drowned "
    "raft came ashore at 3 o'clock."
)


def test_contractions_and_hyphenated_words_count_once(band_url: str, details_of: Any) -> None:
    text = f"{HUCK}\nTHE END.\n"
    assert len(HUCK.split()) == 22, "whitespace splitting would count the dashes"
    assert details_of(band_url, text)["words"] == 20


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Don’t stop; it’s well-known!", 4),
        ("'Quoted', _emphasised_ and (bracketed) words.", 5),
        ("One--two — three…four", 4),
        ("Ünïcödé wörds: café, naïve, Straße.", 5),
        ("... -- !!! ' - ...", 0),
        ("In 1876, 42 rafts.", 4),
    ],
)
def test_punctuation_never_counts(band_url: str, details_of: Any, text: str, words: int) -> None:
    assert details_of(band_url, f"{text}\nTHE END.")["words"] == words


def test_the_end_marker_is_not_counted(band_url: str, details_of: Any) -> None:
    assert details_of(band_url, "Three words here.\nTHE END.")["words"] == 3
    assert details_of(band_url, "Three words here.")["words"] == 3
