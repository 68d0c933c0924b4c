"""The judge's deterministic checks, and the effect each rubric gives them."""

from __future__ import annotations

import pytest

from services.judge.prechecks import CheckSettings, run_checks
from services.judge.rubrics import CheckEffect, Rubric, builtin_rubrics

SETTINGS = CheckSettings(
    end_marker="THE END.", forbidden_names=("Tom Sawyer", "Mark Twain"), repetition_threshold=0.3
)
GOOD = "The raft drifted past the town. Nobody saw us go.\nTHE END."


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


def test_repetition_ratio_is_reported() -> None:
    result = run_checks("The raft drifted down the river. " * 20 + "\nTHE END.", SETTINGS)
    assert result.repetition_ratio > 0.8


def test_rubric_effects() -> None:
    rubrics = builtin_rubrics()
    assert set(rubrics) == {"narrative-v1", "story-v2"}
    v1, v2 = rubrics["narrative-v1"], rubrics["story-v2"]
    assert v1.scores == ["1", "2", "3", "4"] and v2.values == [float(i) for i in range(10)]
    assert v1.checks["meta_commentary"].apply(0.8) == 0.0
    assert v2.checks["end_marker_missing"].apply(0.8) == 0.0
    assert v2.checks["repetition"].apply(0.8) == 0.4
    assert v2.checks["forbidden_names"].apply(0.8) == 0.3
    assert v2.checks["forbidden_names"].apply(0.2) == 0.2


def test_rubric_data_is_validated() -> None:
    with pytest.raises(ValueError, match="value"):
        CheckEffect(effect="cap")
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
