"""`stylegrpo data chunk`: a books folder to a `datasets` folder of cleaned chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.book_folder import find_books
from shared.files import replaced_folder
from trainer.data.chunking import chunk_book
from trainer.data.cleaning import paragraphs


def build_chunks(books_dir: Path, out_dir: Path, max_words: int) -> dict[str, Any]:
    """Clean and chunk every book; write a `load_from_disk` folder and return its summary."""
    from datasets import Dataset
    from tqdm import tqdm

    books = find_books(books_dir)
    if not books:
        raise FileNotFoundError(
            f"no books in {books_dir}: expected AUTHOR--TITLE.txt files or AUTHOR/TITLE.txt"
        )
    rows = []
    for book in tqdm(books, desc="chunking books", unit="book"):
        for chunk in chunk_book(book.author, book.title, paragraphs(book.read_text()), max_words):
            rows.append(
                {
                    "author": chunk.author,
                    "title": chunk.title,
                    "chunk_index": chunk.index,
                    "text": chunk.text,
                    "words": chunk.words,
                }
            )
    summary = {
        "books": len(books),
        "chunks": len(rows),
        "max_words": max_words,
        "authors": sorted({book.author for book in books}),
    }
    with replaced_folder(out_dir) as staging:
        Dataset.from_list(rows).save_to_disk(str(staging))
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
