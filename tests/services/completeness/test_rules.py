"""The rules against exploits through the service: each value pinned on a crafted text."""

from __future__ import annotations

from typing import Any

import pytest


def rule(details: dict[str, Any], name: str) -> tuple[float, float, float]:
    """(value, weight, penalty) of one rule in a text's details."""
    outcome = details["rules"][name]
    return outcome["value"], outcome["weight"], outcome["penalty"]


def test_a_story_cut_off_before_the_marker_is_truncated(
    band_url: str, details_of: Any, story: Any
) -> None:
    details = details_of(band_url, story(1400, last_stop=" and then the"))
    assert rule(details, "truncation") == (1.0, 0.5, 1.0)
    assert details["base"] == 1.0 and details["score"] == 0.5


@pytest.mark.parametrize("last_stop", [".", "!", "?", "…", '."', "!”", ".'", "?)", ".*"])
def test_a_stop_before_closing_marks_is_not_truncation(
    band_url: str, details_of: Any, story: Any, last_stop: str
) -> None:
    details = details_of(band_url, story(1400, last_stop=last_stop))
    assert rule(details, "truncation") == (0.0, 0.5, 0.0)
    assert details["score"] == 1.0


def test_one_paragraph_repeated_is_padding(band_url: str, details_of: Any) -> None:
    paragraph = " ".join(f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(100)) + "."
    text = "\n\n".join([paragraph] * 15) + "\nTHE END.\n"
    details = details_of(band_url, text)
    assert details["words"] == 1500 and details["base"] == 1.0
    # 1,497 4-grams; only the 100 of one turn round the paragraph are new.
    value, weight, penalty = rule(details, "repetition")
    assert value == pytest.approx((1497 - 100) / 1497, rel=1e-12)
    assert (weight, penalty) == (1.0, 1.0)
    assert details["score"] == 0.0


def test_a_little_repetition_costs_a_little(band_url: str, details_of: Any, story: Any) -> None:
    padded = story(1300, marker=None) + " " + story(100, marker=None)
    details = details_of(band_url, padded + "\nTHE END.")
    # 1,397 4-grams, of which the 97 inside the repeated 100 words occurred before.
    value, _, penalty = rule(details, "repetition")
    assert value == pytest.approx(97 / 1397, rel=1e-12)
    assert penalty == pytest.approx((97 / 1397 - 0.05) / 0.25, rel=1e-9)
    assert details["score"] == pytest.approx(1 - penalty, rel=1e-9)


def test_prose_without_repeats_has_no_repetition(
    band_url: str, details_of: Any, story: Any
) -> None:
    assert rule(details_of(band_url, story(1400)), "repetition") == (0.0, 1.0, 0.0)


def test_words_after_the_marker_are_junk(
    band_url: str, v1_url: str, details_of: Any, story: Any
) -> None:
    text = story(1400) + "I hope you enjoyed this story!\n"
    band = details_of(band_url, text)
    assert rule(band, "trailing_junk") == (6.0, 1.0, 1.0)
    assert band["words"] == 1400 and band["end_marker_found"] is False
    assert band["score"] == 0.0
    v1 = details_of(v1_url, text)
    assert v1["base"] == 1.0, "v1 needs no marker and the text ends with a stop"
    assert rule(v1, "trailing_junk") == (6.0, 1.0, 1.0) and v1["score"] == 0.0


def test_a_second_story_after_the_marker_is_junk(
    band_url: str, details_of: Any, story: Any
) -> None:
    text = story(1400) + story(300, first=1400)
    details = details_of(band_url, text)
    assert details["end_marker_found"] is True and details["words"] == 1400
    assert rule(details, "trailing_junk") == (300.0, 1.0, 1.0)
    assert details["score"] == 0.0


def test_rules_weigh_as_set_and_multiply(
    serve_completeness: Any, details_of: Any, story: Any
) -> None:
    url = serve_completeness(truncation_weight=0.25, trailing_junk_weight=0.5)
    details = details_of(url, story(1400, last_stop=" and") + "Junk.\nTHE END.")
    assert details["end_marker_found"] is True and details["base"] == 1.0
    assert rule(details, "truncation") == (1.0, 0.25, 1.0)
    assert rule(details, "trailing_junk") == (1.0, 0.5, 1.0)
    assert details["score"] == (1 - 0.25) * (1 - 0.5)


def test_with_every_weight_zero_the_score_is_the_formula(
    serve_completeness: Any, details_of: Any, story: Any
) -> None:
    url = serve_completeness(truncation_weight=0, repetition_weight=0, trailing_junk_weight=0)
    repeated = story(300, marker=None) + " " + story(300, last_stop=",", marker=None)
    details = details_of(url, repeated + "\nTHE END.\nMore words.\nTHE END.")
    assert details["words"] == 600 and details["base"] == 0.5
    assert [r["penalty"] for r in details["rules"].values()] == [1.0, 1.0, 1.0]
    assert details["score"] == 0.5
