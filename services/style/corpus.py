"""Read a folder of books by author and sample windows from them for author profiles."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from services.style.typography import TYPOGRAPHY_VERSION, normalised_text
from services.style.windows import Tokenizer, split_windows
from shared.author_names import blank_names

AUTHOR_TITLE_SEPARATOR = "--"


@dataclass(frozen=True)
class Book:
    """One plain-text book and whose it is; `blanked_names` are blanked out when it is read,
    and with `typography` it is read in the house typography (`services.style.typography`)."""

    author: str
    title: str
    path: Path
    blanked_names: re.Pattern[str] | None = None
    typography: bool = False

    def read_text(self) -> str:
        """The book's text; a `.jsonl` file's `text` fields joined as paragraphs."""
        raw = self.path.read_text(encoding="utf-8", errors="replace")
        if self.path.suffix == ".jsonl":
            records = (json.loads(line) for line in raw.splitlines() if line.strip())
            raw = "\n\n".join(str(record["text"]) for record in records)
        if self.blanked_names is not None:
            raw = blank_names(raw, self.blanked_names)
        return normalised_text(raw) if self.typography else raw


@dataclass(frozen=True)
class SampledWindow:
    """A window of a book's text, kept with the author and title it came from."""

    author: str
    title: str
    text: str


def find_books(folder: Path) -> list[Book]:
    """Books in `folder`, as `AUTHOR--TITLE.txt` files or `AUTHOR/TITLE.txt` subfolders."""
    if not folder.is_dir():
        raise FileNotFoundError(f"books folder {folder} does not exist or is not a folder")
    books = []
    for path in sorted(folder.rglob("*.txt")):
        relative = path.relative_to(folder)
        if len(relative.parts) == 2:
            books.append(Book(author=relative.parts[0], title=path.stem, path=path))
        elif AUTHOR_TITLE_SEPARATOR in path.stem:
            author, title = path.stem.split(AUTHOR_TITLE_SEPARATOR, 1)
            books.append(Book(author=author, title=title, path=path))
    return books


def negative_sources(paths: list[Path]) -> list[Book]:
    """Texts that are nobody's profile, only a contrast (e.g. generic LLM-written prose)."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"negative text files not found: {', '.join(missing)}")
    return [Book(author=p.stem, title=p.stem, path=p) for p in paths]


def corpus_fingerprint(books: list[Book]) -> str:
    """A hash of the books' names and contents: changes whenever the corpus does."""
    digest = hashlib.sha256()
    for book in books:
        digest.update(f"{book.author}/{book.title}\0".encode())
        if book.blanked_names is not None:
            digest.update(f"blanked {book.blanked_names.pattern}\0".encode())
        if book.typography:
            digest.update(f"typography {TYPOGRAPHY_VERSION}\0".encode())
        digest.update(hashlib.sha256(book.path.read_bytes()).digest())
    return digest.hexdigest()


def sample_book_windows(
    book: Book, tokenizer: Tokenizer, *, count: int, window_tokens: int
) -> list[SampledWindow]:
    """`count` windows spread evenly through the book, skipping its first and last 5%."""
    text = book.read_text()
    windows = split_windows(text, tokenizer, window_tokens=window_tokens, overlap_tokens=0).windows
    usable = [w for w in windows if w.tokens >= window_tokens // 2]
    margin = len(usable) // 20
    body = usable[margin : len(usable) - margin] or usable
    if len(body) > count:
        step = len(body) / count
        body = [body[int(i * step + step / 2)] for i in range(count)]
    return [SampledWindow(book.author, book.title, text[w.start : w.end]) for w in body]


def split_into_parts(windows: list[SampledWindow], parts: int) -> list[SampledWindow]:
    """The same windows, titled `TITLE#k` by which of `parts` consecutive parts they fall in."""
    return [
        SampledWindow(w.author, f"{w.title}#{i * parts // len(windows)}", w.text)
        for i, w in enumerate(windows)
    ]
