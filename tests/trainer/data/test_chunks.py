"""Cleaning and chunking books into a `datasets` folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_from_disk

from trainer.data.chunking import chunk_book
from trainer.data.chunks import build_chunks
from trainer.data.cleaning import paragraphs
from trainer.grpo.prompts import PLOTS

GUTENBERG = """The Project Gutenberg eBook of A River Tale
This eBook is for the use of anyone anywhere in the United States.

*** START OF THE PROJECT GUTENBERG EBOOK A RIVER TALE ***

A RIVER TALE

by Somebody

CONTENTS
CHAPTER I. The Raft
CHAPTER II. The Fog

CHAPTER I.

We shoved off from the bank at night, and the river was
wide and black.

[Illustration: The raft at night]

Transcriber's note: spelling kept as printed.

II.

{body}

*** END OF THE PROJECT GUTENBERG EBOOK A RIVER TALE ***

Section 1. General Terms of Use and Redistributing Project Gutenberg electronic works
"""
BODY = "\n\n".join(f"Paragraph {i} tells of the fog on the river and the town." for i in range(60))


def book_text() -> str:
    return GUTENBERG.replace("{body}", BODY)


def test_cleaning_keeps_only_the_prose() -> None:
    kept = paragraphs(book_text())
    assert kept[0] == "We shoved off from the bank at night, and the river was wide and black."
    text = "\n".join(kept)
    for gone in (
        "Project Gutenberg",
        "Illustration",
        "Transcriber",
        "CHAPTER",
        "CONTENTS",
        "General Terms",
    ):
        assert gone not in text
    assert kept[-1].startswith("Paragraph 59")


@pytest.mark.parametrize("max_words", [5, 40, 500])
def test_chunks_never_exceed_the_limit_and_keep_every_word(max_words: int) -> None:
    kept = paragraphs(book_text())
    chunks = chunk_book("somebody", "a-river-tale", kept, max_words)
    assert all(c.words <= max_words for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert " ".join(" ".join(c.text.split()) for c in chunks) == " ".join(kept)


def test_build_chunks_writes_a_loadable_dataset(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "somebody--a-river-tale.txt").write_text(book_text(), encoding="utf-8")
    (books / "other--a-fog.txt").write_text(BODY, encoding="utf-8")
    summary = build_chunks(books, tmp_path / "chunks", max_words=100)
    dataset = load_from_disk(str(tmp_path / "chunks"))
    assert len(dataset) == summary["chunks"] > 2
    assert set(dataset.column_names) == {"author", "title", "chunk_index", "text", "words"}
    assert set(dataset["author"]) == {"somebody", "other"} and max(dataset["words"]) <= 100
    assert json.loads((tmp_path / "chunks" / "summary.json").read_text())["books"] == 2
    assert not (tmp_path / "chunks.partial").exists()


def test_chunking_real_books_from_the_corpus(corpus_books: Path, tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    for name in ("mark-twain--a-dog-s-tale.txt", "arthur-conan-doyle--ash-08-speckled-band.txt"):
        (books / name).symlink_to(corpus_books / name)
    build_chunks(books, tmp_path / "chunks", max_words=500)
    dataset = load_from_disk(str(tmp_path / "chunks"))
    assert max(dataset["words"]) <= 500 and min(dataset["words"]) > 0
    assert not any(text.startswith(("CHAPTER", "A DOG'S TALE")) for text in dataset["text"])


def test_cli_names_an_empty_books_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "data", "chunk", "--books", str(tmp_path),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "no books" in result.stderr


def test_grpo_prompts_cross_plots_with_chunks_and_split_by_plot(tmp_path: Path) -> None:
    from trainer.data.grpo_prompts import build_grpo_prompts

    books = tmp_path / "books"
    books.mkdir()
    (books / "somebody--a-river-tale.txt").write_text(book_text(), encoding="utf-8")
    (books / "other--a-fog.txt").write_text(BODY, encoding="utf-8")
    build_chunks(books, tmp_path / "chunks", max_words=60)
    sizes = build_grpo_prompts(
        tmp_path / "chunks", tmp_path / "prompts", author="somebody", author_name="Somebody",
        chunks_per_plot=3, test_plots=2,
    )  # fmt: skip
    assert sizes == {"test": 6, "train": 3 * (len(PLOTS) - 2)}
    splits = load_from_disk(str(tmp_path / "prompts"))
    train_plots, test_plots = set(splits["train"]["plot"]), set(splits["test"]["plot"])
    assert len(test_plots) == 2 and not train_plots & test_plots, "no plot in both splits"
    row = splits["train"][0]
    assert "in the style of Somebody" in row["prompt"][0]["content"]
    assert row["sample_text"] and "Project Gutenberg" not in row["sample_text"]
    lines = (tmp_path / "prompts" / "train.jsonl").read_text().splitlines()
    assert (
        len(lines) == sizes["train"] and json.loads(lines[0])["sample_text"] == row["sample_text"]
    )
    with pytest.raises(ValueError, match="no chunks by 'nobody'"):
        build_grpo_prompts(tmp_path / "chunks", tmp_path / "x", author="nobody", author_name="N")
