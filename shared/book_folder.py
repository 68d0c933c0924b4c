"""The books folder, the one format both sides share: read, fingerprinted and written here.

A folder holds `AUTHOR--TITLE.txt` files (or `AUTHOR/TITLE.txt` subfolders) and, when
`stylegrpo data download` wrote it, `manifest.csv`, one row per book: id, author, title, file,
words, sha256, source_url. The style service reads it (`find_books`, `Book.read_text`), its
caches are keyed by `corpus_fingerprint`, and the data pipeline writes it (`BookFolder`): each
book goes to a `.part` file renamed once complete, and the manifest is rewritten the same way
after every book, so an interrupted download loses at most the book in flight and the next run
resumes by checksum.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from shared.author_names import blank_names
from shared.typography import TYPOGRAPHY_VERSION, normalised_text

AUTHOR_TITLE_SEPARATOR = "--"


@dataclass(frozen=True)
class Book:
    """One plain-text book and whose it is; `blanked_names` are blanked out when it is read,
    and with `typography` it is read in the house typography (`shared.typography`)."""

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


MANIFEST = "manifest.csv"
PART_SUFFIX = ".part"
MAX_SLUG_CHARS = 80
# "P. G." -> "PG.": initials run together, as in the corpus's `pg-wodehouse`.
_INITIAL = re.compile(r"\b([A-Za-z])\.\s*(?=[A-Za-z]\.)")


@dataclass(frozen=True)
class ManifestEntry:
    """One book in the folder: what it is, where it came from, and its file's checksum."""

    id: str  # the Project Gutenberg ebook number; empty for a book copied from a local folder
    author: str
    title: str
    file: str
    words: int
    sha256: str
    source_url: str


FIELDS = tuple(f.name for f in fields(ManifestEntry))


def slugify(text: str, fallback: str) -> str:
    """A lower-case, hyphenated, ASCII form of `text` for file names; `fallback` if none is left.

    >>> slugify("P. G. Wodehouse", "x"), slugify("A Dog's Tale", "x"), slugify("?!", "x")
    ('pg-wodehouse', 'a-dog-s-tale', 'x')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", _INITIAL.sub(r"\1", ascii_text).lower()))
    if len(slug) > MAX_SLUG_CHARS:
        slug = slug[:MAX_SLUG_CHARS].rsplit("-", 1)[0]
    return slug or fallback


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data` in hex."""
    return hashlib.sha256(data).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a `.part` file beside `path`, then rename it: `path` is whole or absent."""
    part = path.with_name(f".{path.name}{PART_SUFFIX}")
    try:
        with part.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


class BookFolder:
    """The books folder and its manifest, updated one book at a time."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # A run killed mid-write leaves its `.part` file; it was never a book.
        for stale in folder.glob(f".*{PART_SUFFIX}"):
            stale.unlink()
        self._entries = {entry.file: entry for entry in _read_manifest(folder / MANIFEST)}

    @property
    def entries(self) -> list[ManifestEntry]:
        """Every book in the manifest, in file-name order."""
        return [self._entries[name] for name in sorted(self._entries)]

    def entry_for_id(self, book_id: str) -> ManifestEntry | None:
        """The manifest's entry for Gutenberg ebook `book_id`, if any."""
        return next((e for e in self._entries.values() if e.id and e.id == book_id), None)

    def entry_for_file(self, name: str) -> ManifestEntry | None:
        """The manifest's entry for the book file `name`, if any."""
        return self._entries.get(name)

    def is_intact(self, entry: ManifestEntry) -> bool:
        """Whether `entry`'s file is there with the checksum the manifest recorded."""
        path = self.folder / entry.file
        return path.is_file() and sha256_hex(path.read_bytes()) == entry.sha256

    def file_name_for(self, book_id: str, author: str, title: str) -> str:
        """`AUTHOR--TITLE.txt` for a book; the id is appended when another book has that name."""
        stem = f"{slugify(author, 'unknown')}--{slugify(title, f'ebook-{book_id}')}"
        holder = self._entries.get(f"{stem}.txt")
        return f"{stem}-{book_id}.txt" if holder and holder.id != book_id else f"{stem}.txt"

    def store(
        self, *, book_id: str, author: str, title: str, file: str, text: str, source_url: str
    ) -> ManifestEntry:
        """Write one book's text as `file` and record it in the manifest, both atomically."""
        data = text.encode("utf-8")
        write_atomically(self.folder / file, data)
        entry = ManifestEntry(
            id=book_id,
            author=author,
            title=title,
            file=file,
            words=len(text.split()),
            sha256=sha256_hex(data),
            source_url=source_url,
        )
        # The same ebook under an older name (its title changed upstream) must not stay twice.
        for old in [e for e in self._entries.values() if book_id and e.id == book_id]:
            if old.file != file:
                (self.folder / old.file).unlink(missing_ok=True)
                del self._entries[old.file]
        self._entries[file] = entry
        self._write_manifest()
        return entry

    def _write_manifest(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(entry) for entry in self.entries)
        write_atomically(self.folder / MANIFEST, buffer.getvalue().encode("utf-8"))


def _read_manifest(path: Path) -> list[ManifestEntry]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(
                f"{path} is not a books manifest (columns {reader.fieldnames}, expected "
                f"{list(FIELDS)}): choose another output folder or move that file away"
            )
        try:
            return [_entry_of(row) for row in reader]
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{path} has a malformed row ({exc}): fix it, or delete it to fetch "
                "every book again"
            ) from None


def _entry_of(row: dict[str, str]) -> ManifestEntry:
    values: dict[str, Any] = {name: row[name] for name in FIELDS}
    values["words"] = int(values["words"])
    return ManifestEntry(**values)
