"""Scored passage pairs for the style encoder: passages, perturbation, splits by book, scores."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from datasets import Dataset, load_from_disk

from shared.text import words
from trainer.data.chunks import build_chunks
from trainer.data.pair_sampling import POSITIVE_KINDS
from trainer.data.passages import Passage, cut_passages, perturb
from trainer.data.sentences import split_sentences
from trainer.data.style_pairs import StylePairsSettings, build_style_pairs

# Three authors with four books each (so each is in every split) and one with two books.
BOOKS = {
    "alpha": ["river", "fog", "raft", "town"],
    "beta": ["moor", "hound", "letter", "cab"],
    "gamma": ["club", "aunt", "golf", "pig"],
    "delta": ["sea", "ship"],
}
SMALL = StylePairsSettings(min_words=40, max_words=80, max_train_pairs=60, max_eval_pairs=30)
GENERIC = "generic-prose"


def fake_sentence(author: str, title: str, chunk: int, i: int) -> str:
    """A sentence found nowhere else: the author's voice plus its place in the book."""
    voices = {
        "alpha": "And I reckon the {t} was mighty quiet that night, number {n}, sure enough.",
        "beta": "Holmes observed that the {t} held a singular clue, item {n} of the case.",
        "gamma": "Bertie felt that the {t} was frightfully jolly, what, as per point {n}!",
        "delta": "The {t} rolled beneath a grey sky while the crew counted mark {n}.",
    }
    return voices[author].format(t=title, n=f"{chunk}-{i}")


def fake_chunks(folder: Path) -> Path:
    """A `data chunk`-style folder: 3 chunks of 30 sentences in 3 paragraphs per book."""
    rows = []
    for author, titles in BOOKS.items():
        for title in titles:
            for chunk in range(3):
                sentences = [fake_sentence(author, title, chunk, i) for i in range(30)]
                paragraphs = [" ".join(sentences[j : j + 10]) for j in (0, 10, 20)]
                text = "\n\n".join(paragraphs) + "\n\nAnd an unfinished tail"
                row = {"author": author, "title": title, "chunk_index": chunk, "text": text}
                rows.append(row | {"words": len(words(text))})
    Dataset.from_list(rows).save_to_disk(str(folder))
    (folder / "summary.json").write_text(json.dumps({"max_words": 500}))
    return folder


def fake_generic(path: Path, records: int = 40) -> Path:
    """LLM-like records: a few plain sentences each."""
    lines = []
    for r in range(records):
        text = " ".join(
            f"In today's fast-paced world, record {r} sentence {i} delivers real value."
            for i in range(6)
        )
        lines.append(json.dumps({"text": text, "source": "llm"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("crafted")
    return fake_chunks(root / "chunks"), fake_generic(root / f"{GENERIC}.jsonl")


@pytest.fixture(scope="module")
def built(crafted: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pairs") / "pairs"
    build_style_pairs(crafted[0], [crafted[1]], out, SMALL)
    return out


def test_sentences_rebuild_the_text_and_skip_names_and_initials() -> None:
    text = 'Mr. Holmes met Dr. Watson. "Why?" he asked.\n\nJ. P. Morgan paid! Then nothing'
    pieces = split_sentences(text)
    assert "".join(s + g for s, g in pieces) == text
    assert [s for s, _ in pieces] == [
        "Mr. Holmes met Dr. Watson.", '"Why?"', "he asked.", "J. P. Morgan paid!", "Then nothing",
    ]  # fmt: skip
    assert pieces[2][1] == "\n\n"


def test_passages_are_whole_sentences_within_the_word_bounds() -> None:
    sentences = [fake_sentence("alpha", "river", 0, i) for i in range(40)]
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:]) + " Unfinished tail"
    passages = cut_passages("alpha", "river", 0, text, min_words=40, max_words=60)
    assert len(passages) >= 5
    for passage in passages:
        assert 40 <= passage.word_count <= 60 and passage.text in text
        assert passage.text.endswith(".") and "Unfinished" not in passage.text
    with_break = [p for p in passages if "\n\n" in p.text]
    assert with_break, "paragraph breaks are kept inside passages"


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5, 0.75, 0.9])
def test_perturbation_replaces_the_stated_fraction_of_sentences(ratio: float) -> None:
    def passage(author: str, count: int) -> Passage:
        pieces = [(fake_sentence(author, "t", 0, i), " ") for i in range(count)]
        return Passage(author, "t", 0, tuple(s for s, _ in pieces), tuple(g for _, g in pieces))

    original, donor = passage("alpha", 7), passage("beta", 7)
    changed = perturb(original, donor, ratio, random.Random(3))
    after = [s for s, _ in split_sentences(changed.text)]
    replaced = sum(a != b for a, b in zip(original.sentences, after, strict=True))
    assert replaced == changed.replaced == min(6, max(1, round(ratio * 7)))
    assert changed.kept_fraction == 1 - replaced / 7
    assert all(s in donor.sentences for s in after if s not in original.sentences)


def splits_of(out: Path) -> dict[str, Any]:
    return {name: split.to_list() for name, split in load_from_disk(str(out)).items()}


def test_no_book_is_in_two_splits(built: Path) -> None:
    splits = splits_of(built)
    books = {
        name: {(r[f"author{k}"], r[f"title{k}"]) for r in rows for k in (1, 2)}
        for name, rows in splits.items()
    }
    assert not books["train"] & books["validation"]
    assert not books["train"] & books["test"] and not books["validation"] & books["test"]
    summary = json.loads((built / "summary.json").read_text())
    for name, found in books.items():
        listed = {(t["author"], t["title"]) for t in summary["splits"][name]["titles"]}
        assert found <= listed
    assert {a for a, _ in books["test"]} == {"alpha", "beta", "gamma", GENERIC}
    assert all(a != "delta" for a, _ in books["validation"] | books["test"]), "2 books: train only"
    ranges = [
        t["title"]
        for split in ("train", "validation", "test")
        for t in summary["splits"][split]["titles"]
        if t["author"] == GENERIC
    ]
    assert ranges == [f"{GENERIC}[0:28]", f"{GENERIC}[28:34]", f"{GENERIC}[34:40]"]


def test_every_text_is_a_passage_within_the_word_bounds(built: Path) -> None:
    for rows in splits_of(built).values():
        for row in rows:
            for text in (row["sentence1"], row["sentence2"]):
                assert SMALL.min_words <= len(words(text)) <= SMALL.max_words
                assert "unfinished tail" not in text


def test_scores_follow_the_kind_of_pair(built: Path) -> None:
    splits = splits_of(built)
    for name, rows in splits.items():
        kinds = Counter(row["kind"] for row in rows)
        positives = sum(kinds[k] for k in POSITIVE_KINDS)
        assert positives == kinds["cross_author"] + kinds["llm_generic"] > 0, name
        assert kinds["cross_author"] and kinds["llm_generic"]
        assert (kinds["perturbed"] > 0) == (name != "test"), "test pairs only originals"
        assert len(rows) <= (SMALL.max_train_pairs if name == "train" else SMALL.max_eval_pairs)
        for row in rows:
            kind, score = row["kind"], row["score"]
            if kind == "same_author":
                assert score == 1.0 and row["author1"] == row["author2"]
                assert row["title1"] != row["title2"]
            elif kind == "same_author_same_title":
                assert score == 1.0 and row["title1"] == row["title2"] and name != "train"
            elif kind == "cross_author":
                assert score == 0.0 and row["author1"] != row["author2"]
                assert GENERIC not in (row["author1"], row["author2"])
            elif kind == "llm_generic":
                assert score == 0.0 and row["author2"] == GENERIC
            else:
                assert kind == "perturbed" and row["author2"] != row["author1"]
                before = [s for s, _ in split_sentences(row["sentence1"])]
                after = [s for s, _ in split_sentences(row["sentence2"])]
                replaced = sum(a != b for a, b in zip(before, after, strict=True))
                assert 0 < replaced < len(before)
                assert score == 1 - replaced / len(before)


def test_the_same_seed_gives_the_same_pairs(
    crafted: tuple[Path, Path], built: Path, tmp_path: Path
) -> None:
    build_style_pairs(crafted[0], [crafted[1]], tmp_path / "again", SMALL)
    assert splits_of(tmp_path / "again") == splits_of(built)
    other = dataclasses.replace(SMALL, seed=1, same_author_score=0.9)
    build_style_pairs(crafted[0], [crafted[1]], tmp_path / "other", other)
    rows = splits_of(tmp_path / "other")
    assert rows != splits_of(built)
    assert {r["score"] for r in rows["train"] if r["kind"] == "same_author"} == {0.9}


def test_without_negative_texts_negatives_are_other_authors(
    crafted: tuple[Path, Path], tmp_path: Path
) -> None:
    summary = build_style_pairs(crafted[0], [], tmp_path / "pairs", SMALL)
    assert set(summary["splits"]["train"]["kinds"]) == {"cross_author", "perturbed", "same_author"}
    assert not (tmp_path / "pairs.partial").exists()


def test_bad_inputs_say_what_is_wrong(crafted: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        StylePairsSettings(replace_ratios=(0.5, 1.0))
    with pytest.raises(ValueError, match="min_words <= max_words"):
        StylePairsSettings(min_words=300, max_words=200)
    Dataset.from_list([{"author": "a", "text": "x"}]).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(ValueError, match=r"lacks the columns \['chunk_index', 'title'\]"):
        build_style_pairs(tmp_path / "bad", [], tmp_path / "out", SMALL)
    with pytest.raises(FileNotFoundError, match="negative text files not found"):
        build_style_pairs(crafted[0], [tmp_path / "none.jsonl"], tmp_path / "out", SMALL)
    two_books = load_from_disk(str(crafted[0])).filter(lambda row: row["author"] == "delta")
    two_books.save_to_disk(str(tmp_path / "delta"))
    with pytest.raises(ValueError, match="no pairs for the validation split"):
        build_style_pairs(tmp_path / "delta", [crafted[1]], tmp_path / "out", SMALL)
    assert not (tmp_path / "out").exists()


def test_cli_builds_pairs_and_rejects_bad_ratios(
    crafted: tuple[Path, Path], tmp_path: Path
) -> None:
    base = [sys.executable, "-m", "stylegrpo", "data", "build-style-pairs", "--chunks",
            str(crafted[0]), "--negative-texts", str(crafted[1]), "--min-words", "40",
            "--max-words", "80", "--max-train-pairs", "20", "--max-eval-pairs", "10"]  # fmt: skip
    done = subprocess.run(
        [*base, "--out", str(tmp_path / "pairs")],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "pairs: train 20, validation" in done.stdout
    assert len(load_from_disk(str(tmp_path / "pairs"))["train"]) == 20
    bad = subprocess.run(
        [*base, "--out", str(tmp_path / "x"), "--ratios", "0.5,two"],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and not (tmp_path / "x").exists()


CORPUS_BOOKS = (
    "mark-twain--a-dog-s-tale.txt", "mark-twain--a-horse-s-tale.txt",
    "mark-twain--roughing-it-part-3.txt", "arthur-conan-doyle--ash-02-red-headed-league.txt",
    "arthur-conan-doyle--ash-08-speckled-band.txt", "arthur-conan-doyle--sign-of-four.txt",
    "pg-wodehouse--a-man-of-means.txt", "pg-wodehouse--a-wodehouse-miscellany-articles-stories.txt",
    "pg-wodehouse--death-at-the-excelsior-and-other-stories.txt",
)  # fmt: skip


def test_pairs_from_corpus_books(
    corpus_books: Path, negative_texts: list[Path], tmp_path: Path
) -> None:
    books = tmp_path / "books"
    books.mkdir()
    for name in CORPUS_BOOKS:
        (books / name).symlink_to(corpus_books / name)
    build_chunks(books, tmp_path / "chunks", max_words=1500)
    settings = StylePairsSettings(max_train_pairs=400, max_eval_pairs=100)
    summary = build_style_pairs(tmp_path / "chunks", negative_texts, tmp_path / "pairs", settings)
    splits = splits_of(tmp_path / "pairs")
    titles = {name: {r[f"title{k}"] for r in rows for k in (1, 2)} for name, rows in splits.items()}
    assert not titles["train"] & titles["validation"] and not titles["train"] & titles["test"]
    assert not titles["validation"] & titles["test"]
    assert all(len(titles[name]) >= 3 for name in titles), "each author has a book in each split"
    for name, rows in splits.items():
        assert summary["splits"][name]["pairs"] == len(rows) > 0
        for row in rows:
            for text in (row["sentence1"], row["sentence2"]):
                assert 220 <= len(words(text)) <= 420
            if row["kind"] == "perturbed":
                before = [s for s, _ in split_sentences(row["sentence1"])]
                after = [s for s, _ in split_sentences(row["sentence2"])]
                replaced = sum(a != b for a, b in zip(before, after, strict=True))
                assert row["score"] == 1 - replaced / len(before)
