"""The author-LM likelihood ratio: a tiny random model fine-tuned for a few steps on a tiny
corpus, then cached, reloaded and scoring texts."""

from __future__ import annotations

import doctest
import math
from pathlib import Path
from typing import Any

import pytest

from trainer.evaluation import author_lm
from trainer.evaluation.author_lm import AuthorLanguageModel, AuthorLmMeasures, AuthorLmSettings
from trainer.evaluation.prompts import PromptRow
from trainer.evaluation.scoring import score_completions
from trainer.evaluation.stylometry import StylometryProfile

pytestmark = pytest.mark.slow

# The "author" writes one river scene over and over; the unrelated text shares none of it.
RIVER = (
    "We drifted down the big river on the raft all night, and the fog lay thick upon the "
    "water, and Jim he sat by the fire and never said nothing."
)
UNRELATED = "Quarterly revenue guidance: 4.2% CAGR; EBITDA margins (Q3) exceeded forecasts."


def settings(model: Path, **changes: Any) -> AuthorLmSettings:
    """Few steps of short blocks at a high rate: enough for a tiny model to learn the scene."""
    values: dict[str, Any] = {
        "base_model": str(model), "steps": 12, "batch_size": 4, "block_tokens": 48,
        "learning_rate": 1e-2, "lora_rank": 8,
    }  # fmt: skip
    return AuthorLmSettings(**{**values, **changes})


@pytest.fixture
def books(tmp_path: Path) -> Path:
    folder = tmp_path / "books"
    folder.mkdir()
    for title in ("raft", "fog"):
        (folder / f"ann--{title}.txt").write_text("\n\n".join([RIVER] * 40), encoding="utf-8")
    (folder / "bo--ledger.txt").write_text("\n\n".join([UNRELATED] * 40), encoding="utf-8")
    return folder


def test_doctests_pass() -> None:
    assert doctest.testmod(author_lm).failed == 0


def test_a_short_build_scores_the_authors_text_above_unrelated_text(
    books: Path, tiny_policy: Path, tmp_path: Path
) -> None:
    model = AuthorLanguageModel.build(
        books, "ann", held_out=["fog"], settings=settings(tiny_policy), cache_dir=tmp_path
    )
    assert model.info["books"] == ["raft"], "the held-out book is not trained on"
    assert model.info["last_loss"] < model.info["first_loss"]
    river, unrelated, empty, spaces = model.measure([RIVER, UNRELATED, "", " \n "])
    assert math.isfinite(river) and math.isfinite(unrelated)
    assert river > 0.3, "the author's scene is likelier under the fine-tuned model"
    assert river > unrelated + 0.3
    assert math.isnan(empty) and math.isnan(spaces)


def test_a_second_build_loads_the_cached_model_and_other_settings_train_anew(
    books: Path, tiny_policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = AuthorLanguageModel.build(
        books, "ann", settings=settings(tiny_policy, steps=2), cache_dir=tmp_path
    )
    assert first.folder.parent == tmp_path / "author-lm"
    assert not first.folder.with_name(first.folder.name + ".partial").exists()

    def no_training(*args: object) -> None:
        raise AssertionError("a cached author LM was trained again")

    monkeypatch.setattr(author_lm, "_train", no_training)
    again = AuthorLanguageModel.build(
        books, "ann", settings=settings(tiny_policy, steps=2), cache_dir=tmp_path
    )
    assert again.folder == first.folder
    assert again.measure([RIVER]) == pytest.approx(first.measure([RIVER]), abs=1e-4)
    with pytest.raises(AssertionError, match="trained again"):
        AuthorLanguageModel.build(
            books, "ann", settings=settings(tiny_policy, steps=3), cache_dir=tmp_path
        )
    with pytest.raises(AssertionError, match="trained again"):
        AuthorLanguageModel.build(
            books, "ann", held_out=["fog"], settings=settings(tiny_policy, steps=2),
            cache_dir=tmp_path,
        )  # fmt: skip


def test_completions_get_the_author_lm_measure(
    books: Path, tiny_policy: Path, tmp_path: Path
) -> None:
    model = AuthorLanguageModel.build(
        books, "ann", settings=settings(tiny_policy, steps=2), cache_dir=tmp_path
    )
    profile = StylometryProfile.from_texts(
        {"ann": [RIVER * 20], "bo": [UNRELATED * 40]}, "ann", top_words=5, segment_words=40
    )
    completions = [
        {"row": 0, "sample": 0, "completion": text, "truncated": False} for text in (RIVER, "")
    ]
    rows = [PromptRow(messages=[{"role": "user", "content": "Tell."}], columns={})]
    scored = score_completions([], completions, rows, profile, AuthorLmMeasures(model))
    assert math.isfinite(scored[0]["author_lm"]) and math.isnan(scored[1]["author_lm"])
    assert "author_vs_rivals" not in scored[0]
    assert "author_lm" not in score_completions([], completions, rows, profile)[0]


def test_the_rivals_lm_learns_the_other_authors_and_the_contrast_tells_them_apart(
    books: Path, tiny_policy: Path, tmp_path: Path
) -> None:
    measures = AuthorLmMeasures.build(
        books, "ann", settings=settings(tiny_policy), cache_dir=tmp_path
    )
    assert measures.rivals is not None
    assert measures.rivals.info["author"] == "rivals-of-ann"
    assert measures.rivals.info["books"] == ["ledger"], "every other author's books, not ann's"
    assert measures.names == ["author_lm", "author_vs_rivals"]
    values = measures.measure([RIVER, UNRELATED, ""])
    river, unrelated, empty = values["author_vs_rivals"]
    assert river > 0.3, "the author's scene is likelier under the author's LM than the rivals'"
    assert unrelated < -0.3, "the rival's text is likelier under the rivals' LM"
    assert math.isnan(empty)
    own_river = values["author_lm"][0]
    assert own_river == pytest.approx(measures.author.measure([RIVER])[0], abs=1e-4)


def test_without_another_author_there_is_no_contrast(
    books: Path, tiny_policy: Path, tmp_path: Path
) -> None:
    (books / "bo--ledger.txt").unlink()
    measures = AuthorLmMeasures.build(
        books, "ann", settings=settings(tiny_policy, steps=2), cache_dir=tmp_path
    )
    assert measures.rivals is None and measures.names == ["author_lm"]
    assert list(measures.measure([RIVER])) == ["author_lm"]
    with pytest.raises(FileNotFoundError, match="books of an author other than ann"):
        AuthorLanguageModel.build_rivals(books, "ann", cache_dir=tmp_path)


def test_bad_books_and_settings_are_named(books: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"held-out titles not among 'ann'.*\['nope'\]"):
        AuthorLanguageModel.build(books, "ann", held_out=["nope"], cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"not among the books of authors other than 'ann'"):
        AuthorLanguageModel.build_rivals(books, "ann", held_out=["raft"], cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no cy--TITLE\.txt books"):
        AuthorLanguageModel.build(books, "cy", cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"steps must be >= 1.*learning_rate must be > 0"):
        AuthorLmSettings(steps=0, learning_rate=0.0)
    with pytest.raises(FileNotFoundError, match="build one first"):
        AuthorLanguageModel.load(tmp_path)
