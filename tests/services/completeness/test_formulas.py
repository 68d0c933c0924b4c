"""The two length formulas through the service, pinned at exact word counts."""

from __future__ import annotations

import math
from typing import Any

import pytest

V1_BASE = {400: 0.0, 700: math.sqrt(0.5), 1400: 1.0, 2000: 1.0}


@pytest.mark.parametrize("words", sorted(V1_BASE))
def test_v1_with_a_final_stop(v1_url: str, details_of: Any, story: Any, words: int) -> None:
    details = details_of(v1_url, story(words, marker=None))
    assert details["formula"] == "v1" and details["words"] == words
    assert details["base"] == pytest.approx(V1_BASE[words], rel=1e-12)
    assert details["score"] == details["base"]


@pytest.mark.parametrize("words", sorted(V1_BASE))
def test_v1_without_a_final_stop_is_halved(
    v1_url: str, details_of: Any, story: Any, words: int
) -> None:
    details = details_of(v1_url, story(words, last_stop="", marker=None))
    assert details["base"] == pytest.approx(V1_BASE[words] / 2, rel=1e-12)
    # The truncation rule (weight 0.5) sees the same unfinished sentence.
    assert details["rules"]["truncation"]["penalty"] == 1.0
    assert details["score"] == pytest.approx(V1_BASE[words] / 4, rel=1e-12)


def test_v1_with_the_rules_off_is_the_original_formula(
    serve_completeness: Any, details_of: Any, story: Any
) -> None:
    url = serve_completeness(formula="v1", truncation_weight=0.0)
    details = details_of(url, story(700, last_stop="", marker=None))
    assert details["score"] == details["base"] == pytest.approx(math.sqrt(0.5) / 2, rel=1e-12)


@pytest.mark.parametrize(
    ("words", "base"),
    [
        (300, 0.25),
        (600, 0.5),
        (1199, 1199 / 1200),
        (1200, 1.0),
        (1400, 1.0),
        (1600, 1.0),
        (1800, 0.5**0.5),
        (2000, 0.5),
        (2400, 0.25),
    ],
)
def test_band_rises_to_the_band_then_halves_every_400_words(
    band_url: str, details_of: Any, story: Any, words: int, base: float
) -> None:
    details = details_of(band_url, story(words))
    assert details["formula"] == "band" and details["words"] == words
    assert details["end_marker_found"] is True
    assert details["base"] == pytest.approx(base, rel=1e-12)
    assert details["score"] == details["base"]


@pytest.mark.parametrize(
    "ending",
    [
        "",  # no marker at all
        " THE END.",  # on the last sentence's line, not its own
        "\nThe End.",  # not the marker: it is case-sensitive
        "\nTHE END",  # without its stop
    ],
)
def test_band_without_the_end_marker_line_is_zero(
    band_url: str, details_of: Any, story: Any, ending: str
) -> None:
    details = details_of(band_url, story(1400, marker=None) + ending)
    assert details["end_marker_found"] is False
    assert details["base"] == 0.0 and details["score"] == 0.0


@pytest.mark.parametrize("ending", ["\nThe End.", "\n**the end**", "\nTHE END", "\nThe End!"])
def test_a_loose_ending_earns_its_configured_share(
    serve_completeness: Any, details_of: Any, story: Any, ending: str
) -> None:
    url = serve_completeness(loose_ending_credit=0.3)
    details = details_of(url, story(1400, marker=None) + ending)
    assert details["end_marker_found"] is False and details["loose_ending_found"] is True
    assert details["words"] == 1400  # the loose ending line is not a word of the story
    assert details["base"] == pytest.approx(0.3, rel=1e-12)
    exact = details_of(url, story(1400))
    assert exact["base"] == 1.0 and exact["loose_ending_found"] is False
    # An ending inside the last sentence's line is no ending line at all.
    assert details_of(url, story(1400, marker=None) + " The End.")["base"] == 0.0


def test_an_unmarked_finished_story_earns_its_configured_share(
    serve_completeness: Any, details_of: Any, story: Any
) -> None:
    url = serve_completeness(unmarked_ending_credit=0.2, loose_ending_credit=0.5)
    assert details_of(url, story(600, marker=None))["base"] == pytest.approx(0.2 * 0.5)
    assert details_of(url, story(1400, marker=None))["base"] == pytest.approx(0.2)
    assert details_of(url, story(1400, marker=None) + "\nThe End")["base"] == pytest.approx(0.5)
    # Cut mid-sentence: the story did not end, so no credit.
    assert details_of(url, story(1400, last_stop="", marker=None))["base"] == 0.0


def test_band_allows_whitespace_around_the_marker_line(
    band_url: str, details_of: Any, story: Any
) -> None:
    details = details_of(band_url, story(1400, marker=None) + "\n\n  THE END.\t \n\n \n")
    assert details["end_marker_found"] is True and details["score"] == 1.0


def test_band_and_marker_follow_their_settings(
    serve_completeness: Any, details_of: Any, story: Any
) -> None:
    url = serve_completeness(
        band_low_words=100, band_high_words=200, band_half_life_words=50, end_marker="FIN"
    )
    assert details_of(url, story(150, marker="FIN"))["score"] == 1.0
    assert details_of(url, story(250, marker="FIN"))["score"] == pytest.approx(0.5)
    assert details_of(url, story(150))["score"] == 0.0
