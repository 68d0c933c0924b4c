"""The copy and prose guards on tiny crafted books (no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.style.guards.combined import TextGuards
from services.style.settings import StyleSettings
from shared.book_folder import find_books

RIVER = (
    "We floated down the river on the raft all night and in the morning we tied up to a towhead "
    "and cooked breakfast and slept till the sun was high. "
)
MOOR = "The fog lay upon the moor and the inspector perceived a singular light in the window. "


@pytest.fixture
def guards(tmp_path: Path) -> TextGuards:
    (tmp_path / "river--one.txt").write_text(RIVER * 5)
    (tmp_path / "moor--one.txt").write_text(MOOR * 5)
    settings = StyleSettings(
        books_dir=tmp_path, copy_ngram_words=8, prose_ngram_words=3, repetition_window_words=100
    )
    return TextGuards.build(settings, find_books(tmp_path), [])


def test_quoting_the_book_is_copying_and_prose(guards: TextGuards) -> None:
    [report] = guards.reports([RIVER], None, "river")
    assert report.copy is not None and report.copy.copied_fraction == 1.0
    assert report.copy.penalty_factor == 0.0
    assert report.known_ngram_fraction == 1.0 and report.prose_factor == 1.0
    assert report.factor == 0.0


def test_the_prose_factor_ramps_from_the_floor_to_full(guards: TextGuards) -> None:
    known = "we floated down the river on the raft"  # 8 words, all in known trigrams
    unknown = "zebra quartz velvet omen"
    texts = [known, f"{known} {unknown} {unknown}", f"{unknown} {unknown} {unknown} {known}"]
    reports = guards.reports(texts, None, "moor")
    fractions = [r.known_ngram_fraction for r in reports]
    assert fractions == [1.0, 0.5, 0.4]
    assert all(r.prose_factor == 1.0 for r in reports)
    shuffled = "river the raft on we down floated the night all"
    [report] = guards.reports([shuffled], None, "moor")
    assert report.known_ngram_fraction == 0.0 and report.prose_factor == 0.0
    [few] = guards.reports([f"{known} " + " ".join([unknown] * 11)], None, "moor")
    assert few.known_ngram_fraction == pytest.approx(8 / 52)
    assert few.prose_factor == pytest.approx((8 / 52 - 0.10) / 0.15)


def test_a_reference_is_the_copy_guards_source_in_reference_mode(guards: TextGuards) -> None:
    [report] = guards.reports([MOOR], [MOOR], "")
    assert report.copy is not None and report.copy.copied_fraction == 1.0


def test_guards_that_are_off_report_nothing(tmp_path: Path) -> None:
    (tmp_path / "river--one.txt").write_text(RIVER)
    settings = StyleSettings(
        books_dir=tmp_path, copy_guard=False, prose_guard=False, repetition_guard=False
    )
    [report] = TextGuards.build(settings, find_books(tmp_path), []).reports(
        ["x y z x y z x y z"], None, "river"
    )
    assert report.copy is None and report.prose_factor is None and report.factor == 1.0
    assert report.repetition_factor is None and report.repeated_bigram_fraction is None


def test_a_ramp_that_does_not_rise_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="STYLE_PROSE_KNOWN_FLOOR"):
        StyleSettings(books_dir=tmp_path, prose_known_floor=0.3, prose_known_full=0.2)
    with pytest.raises(ValueError, match="STYLE_REPETITION_THRESHOLD"):
        StyleSettings(books_dir=tmp_path, repetition_threshold=0.5, repetition_full=0.45)


def test_repeated_word_pairs_cut_the_score_by_stretch(guards: TextGuards) -> None:
    looping = "and the most splendid, and the most noble, " * 20
    [prose, loop] = guards.reports([RIVER + MOOR, looping], None, "river")
    assert prose.repetition_factor == 1.0
    assert loop.repeated_bigram_fraction is not None and loop.repeated_bigram_fraction > 0.9
    assert loop.repetition_factor == 0.0 and loop.factor == 0.0
    looping = "and the most splendid, and the most noble, " * 12  # 96 words
    fresh = " ".join(f"word{i}" for i in range(96))
    [half] = guards.reports([f"{fresh} {looping}"], None, "river")  # two stretches of 96
    assert half.repetition_factor == pytest.approx(0.5), "one clean stretch of two: half the score"
