"""The judge's deterministic checks, and the effect each rubric gives them."""

from __future__ import annotations

import pytest

from services.judge.fluency import scramble
from services.judge.prechecks import CheckSettings, run_checks
from services.judge.rubrics import CheckEffect, Rubric, builtin_rubrics
from services.judge.settings import JudgeSettings
from shared.settings import load_settings

SETTINGS = CheckSettings(
    end_marker="THE END.", forbidden_names=("Tom Sawyer", "Mark Twain"), repetition_threshold=0.3
)
GOOD = "The raft drifted past the town. Nobody saw us go.\nTHE END."
TWAIN = load_settings(JudgeSettings)
TWAIN_CHECKS = CheckSettings(
    "THE END.", TWAIN.forbidden_names, 0.3, telltale_words=TWAIN.telltale_words
)


def failed(story: str) -> dict[str, str]:
    return run_checks(story, SETTINGS).failed


def test_a_clean_story_passes_every_check() -> None:
    assert failed(GOOD) == {}


@pytest.mark.parametrize(
    ("story", "check"),
    [
        ("The raft drifted past the town. Nobody saw us go.", "end_marker_missing"),
        ("The raft drifted past the town. Nobody saw us\nTHE END.", "abrupt_ending"),
        ("Tom sawyer painted the fence. He was glad.\nTHE END.", "forbidden_names"),
        ("In the style of MARK TWAIN, here goes. It ended.\nTHE END.", "forbidden_names"),
        ("As an AI, I wrote this. It ended.\nTHE END.", "meta_commentary"),
        ("Here is a story about a raft. It ended.\nTHE END.", "meta_commentary"),
        ("<|im_start|>assistant\nThe raft drifted. It ended.\nTHE END.", "meta_commentary"),
        ("The raft drifted down the river. " * 20 + "\nTHE END.", "repetition"),
    ],
)
def test_each_check_fires_on_what_it_looks_for(story: str, check: str) -> None:
    assert check in failed(story)


def test_names_match_whole_words_only() -> None:
    assert "forbidden_names" not in failed("Tomás Sawyerson rowed away. It ended.\nTHE END.")


@pytest.mark.parametrize(
    "story",
    [
        "Driscoll came home late. Tom was asleep.",  # split across sentences
        "Then Driscoll, whose first name was Tom, came home.",  # reordered
        "It was Driscoll's dog that barked.",  # the surname alone
        "The river was wide, and Life on it was slow for one raised on the Mississippi.",
    ],
)
def test_names_are_caught_split_or_reordered(story: str) -> None:
    assert "forbidden_names" in run_checks(story + "\nTHE END.", TWAIN_CHECKS).failed


@pytest.mark.parametrize(
    "story",
    [
        "Tom rowed the skiff down the Mississippi. Life was slow.",
        "Aunt Sarah watched the sawyer drift past the landing; a sawyer is a snag.",
        "The Prince rode by. Later a pauper begged at the gate.",
    ],
)
def test_common_words_of_names_alone_are_not_names(story: str) -> None:
    assert "forbidden_names" not in run_checks(story + "\nTHE END.", TWAIN_CHECKS).failed


def test_a_word_shuffle_never_hides_a_name() -> None:
    story = (
        "The judge sent for Tom Driscoll at noon. Colonel Sellers laughed, and nobody else did. "
        "Then Widow Douglas shut the door, and the town went back to sleep."
    )
    names = "Widow Douglas, Tom Driscoll, Colonel Sellers"  # in the names list's order
    assert run_checks(story, TWAIN_CHECKS).failed["forbidden_names"] == names
    for seed in range(20):
        shuffled = run_checks(scramble(story, seed=seed), TWAIN_CHECKS)
        assert shuffled.failed["forbidden_names"] == names, seed


@pytest.mark.parametrize(
    ("ending", "severity"),
    [
        ("He was glad.", None),
        ('He said, "Go home."', None),
        ("He trailed off...", None),
        ("\u201cIf only you had--\u201d", None),  # speech broken off, the quote closed
        ("Then the old man turned to me and asked:", 0.2),
        ("And I never saw him again--", 0.2),
        ("He sat down, and", 1.0),
        ("He sat down, and the riv", 1.0),
        ("He sat down,", 0.6),
        ('He sat down and said, "', 1.0),  # an opening quote
    ],
)
def test_the_ending_is_graded_by_where_the_last_sentence_stops(
    ending: str, severity: float | None
) -> None:
    result = run_checks(f"The raft drifted past the town. {ending}\nTHE END.", SETTINGS)
    assert result.severity.get("abrupt_ending") == severity


def test_a_last_line_that_is_the_marker_but_for_case_still_ends_the_story() -> None:
    result = run_checks("The raft drifted past the town.\n\n*The End*", SETTINGS)
    assert "abrupt_ending" not in result.failed and "end_marker_missing" in result.failed


def test_repetition_ratio_is_reported() -> None:
    result = run_checks("The raft drifted down the river. " * 20 + "\nTHE END.", SETTINGS)
    assert result.repetition_ratio > 0.8


def test_rubric_effects() -> None:
    rubrics = builtin_rubrics()
    assert set(rubrics) == {"narrative-v1", "story-v2"}
    v1, v2 = rubrics["narrative-v1"], rubrics["story-v2"]
    assert v1.scores == ["1", "2", "3", "4"] and v2.values == [float(i) for i in range(10)]
    assert v1.checks["meta_commentary"].apply(0.8) == 0.0
    assert v2.checks["end_marker_missing"].apply(0.8) == 0.2
    assert v2.checks["abrupt_ending"].apply(0.8) == 0.2
    assert v1.checks["abrupt_ending"].apply(0.8) == 0.2
    assert v1.checks["abrupt_ending"].apply(0.8, severity=0.2) == pytest.approx(0.68)
    assert v2.checks["repetition"].apply(0.8) == 0.4
    assert v2.checks["forbidden_names"].apply(0.8) == 0.3
    assert v2.checks["forbidden_names"].apply(0.2) == 0.2


def test_rubric_data_is_validated() -> None:
    with pytest.raises(ValueError, match="value"):
        CheckEffect(effect="cap")
    with pytest.raises(ValueError, match="value"):
        CheckEffect(effect="factor")
    with pytest.raises(ValueError, match="value"):
        CheckEffect(effect="zero", value=0.5)
    with pytest.raises(ValueError, match="story"):
        Rubric(
            name="x",
            version=1,
            description="",
            scores=["0", "1"],
            system="s",
            user="{prompt} only",
            checks={},
        )
