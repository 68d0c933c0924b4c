"""Downloading Gutenberg books from a real HTTP mirror and catalog on 127.0.0.1."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from shared.book_folder import MANIFEST, BookFolder, find_books
from trainer.data.gutenberg import copy_local_books, download_author, download_ids
from trainer.data.gutenberg_settings import GutenbergSettings
from trainer.data.gutendex import CatalogError

HUCK, TOM, DETECTIVE = 76, 74, 93


def gutenberg_text(book_id: int, title: str, author: str) -> str:
    """A small book in Project Gutenberg's layout: header, START, prose, END, licence."""
    body = "\n\n".join(
        f"Paragraph {i} of {title}: the river ran wide and slow\npast the town." for i in range(40)
    )
    marker = f"THE PROJECT GUTENBERG EBOOK {title.upper()}"
    return (
        f"The Project Gutenberg eBook of {title}\r\n\r\nTitle: {title}\r\n\r\n"
        f"Author: {author}\r\n\r\nRelease date: June 29, 2004 [eBook #{book_id}]\r\n\r\n"
        f"*** START OF {marker} ***\r\n\r\n{body}\r\n\r\n*** END OF {marker} ***\r\n\r\n"
        "Section 1. General Terms of Use and Redistributing Project Gutenberg electronic works\r\n"
    )


def cleaned(book_id: int, title: str, author: str) -> str:
    text = gutenberg_text(book_id, title, author).replace("\r\n", "\n")
    return text.split(" ***\n", 1)[1].split("*** END")[0].strip() + "\n"


def result(book_id: int, title: str, author: str, media_type: str = "Text") -> dict[str, Any]:
    """A catalog entry as Gutendex writes it (`Last, First` names, extra fields)."""
    last, first = author.split(" ", 1)[1], author.split(" ", 1)[0]
    return {
        "id": book_id,
        "title": title,
        "authors": [{"name": f"{last}, {first}", "birth_year": 1835, "death_year": 1910}],
        "languages": ["en"],
        "media_type": media_type,
        "download_count": 1000 - book_id,
    }


@dataclass
class FakeGutenberg:
    """A mirror and a catalog on one server, with faults to switch on per path."""

    files: dict[str, bytes] = field(default_factory=dict)
    catalog_pages: list[list[dict[str, Any]]] = field(default_factory=list)
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # statuses before the file
    cut_off: set[str] = field(default_factory=set)  # half the body, then the connection drops
    requests: Counter[str] = field(default_factory=Counter)
    searches: list[dict[str, list[str]]] = field(default_factory=list)
    user_agents: set[str] = field(default_factory=set)
    url: str = ""

    def add_book(self, book_id: int, title: str, author: str, *, files_path: bool = False) -> str:
        """Serve a book at the cache path (or only at the `/files/` path); return that path."""
        path = f"/files/{book_id}/{book_id}-0.txt" if files_path else self.cache_path(book_id)
        self.files[path] = gutenberg_text(book_id, title, author).encode("utf-8")
        return path

    @staticmethod
    def cache_path(book_id: int) -> str:
        return f"/cache/epub/{book_id}/pg{book_id}.txt"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parsed = urlsplit(self.path)
        fake.requests[parsed.path] += 1
        fake.user_agents.add(self.headers.get("User-Agent", ""))
        if parsed.path == "/books":  # Gutendex's own answer: a redirect to the slashed path
            self._answer(301, b"", {"Location": f"/books/?{parsed.query}"})
        elif parsed.path == "/books/":
            self._catalog_page(fake, parse_qs(parsed.query))
        elif fake.fail_next.get(parsed.path):
            self._answer(fake.fail_next[parsed.path].pop(0), b"busy, try again")
        elif parsed.path in fake.cut_off:
            body = fake.files[parsed.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif parsed.path in fake.files:
            self._answer(200, fake.files[parsed.path])
        else:
            self._answer(404, b"Not Found")

    def _catalog_page(self, fake: FakeGutenberg, query: dict[str, list[str]]) -> None:
        fake.searches.append(query)
        page = int(query.get("page", ["1"])[0])
        more = page < len(fake.catalog_pages)
        next_query = urlencode({"search": query["search"][0], "languages": "en", "page": page + 1})
        body = {
            "count": sum(len(p) for p in fake.catalog_pages),
            "next": f"{fake.url}/books/?{next_query}" if more else None,
            "previous": None,
            "results": fake.catalog_pages[page - 1] if fake.catalog_pages else [],
        }
        self._answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `FakeGutenberg.requests` instead."""


class _Server(ThreadingHTTPServer):
    fake: FakeGutenberg


@pytest.fixture
def fake() -> Iterator[FakeGutenberg]:
    """A fake Gutenberg mirror and Gutendex catalog over real HTTP on 127.0.0.1."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeGutenberg(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def settings_for(fake: FakeGutenberg) -> GutenbergSettings:
    return GutenbergSettings(
        mirror=fake.url, catalog=fake.url, delay_s=0, timeout_s=5,
        max_retries=2, backoff_base_s=0.01, backoff_max_s=0.05,
    )  # fmt: skip


def manifest_rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / MANIFEST).open(encoding="utf-8", newline="") as file:
        return {row["id"] or row["file"]: row for row in csv.DictReader(file)}


def twain_catalog(fake: FakeGutenberg) -> None:
    """Two pages: Twain's books, a second edition, someone else's book and a recording."""
    fake.catalog_pages = [
        [
            result(HUCK, "Adventures of Huckleberry Finn", "Mark Twain"),
            result(1, "Mark Twain: A Biography", "Albert Paine"),
            result(TOM, "The Adventures of Tom Sawyer", "Mark Twain"),
        ],
        [
            result(9, "Adventures of Huckleberry Finn", "Mark Twain"),
            result(3, "The Jumping Frog", "Mark Twain", media_type="Sound"),
            result(DETECTIVE, "Tom Sawyer, Detective", "Mark Twain"),
        ],
    ]
    fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    fake.add_book(TOM, "The Adventures of Tom Sawyer", "Mark Twain")
    fake.add_book(DETECTIVE, "Tom Sawyer, Detective", "Mark Twain")
    for other in (1, 9, 3):
        fake.add_book(other, "Other", "Someone Else")


def test_by_author_takes_each_title_once_from_every_page(
    fake: FakeGutenberg, tmp_path: Path
) -> None:
    twain_catalog(fake)
    report = download_author("Mark Twain", 10, tmp_path / "books", settings_for(fake))
    names = sorted(entry.file for entry in report.written)
    assert names == [
        "mark-twain--adventures-of-huckleberry-finn.txt",
        "mark-twain--the-adventures-of-tom-sawyer.txt",
        "mark-twain--tom-sawyer-detective.txt",
    ]
    assert not report.failed and report.books == 3
    assert fake.searches[0]["search"] == ["Mark Twain"] and fake.searches[0]["languages"] == ["en"]
    assert len(fake.searches) == 2, "the second page was followed"
    assert all(fake.requests[fake.cache_path(i)] == 0 for i in (1, 9, 3)), "not Twain's, or a copy"
    assert all(agent.startswith("stylegrpo/") for agent in fake.user_agents)

    book = (tmp_path / "books" / "mark-twain--adventures-of-huckleberry-finn.txt").read_text()
    assert book == cleaned(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    assert "Project Gutenberg" not in book and "START OF" not in book
    rows = manifest_rows(tmp_path / "books")
    huck = rows[str(HUCK)]
    assert huck["author"] == "Mark Twain" and huck["title"] == "Adventures of Huckleberry Finn"
    assert huck["sha256"] == hashlib.sha256(book.encode()).hexdigest()
    assert int(huck["words"]) == len(book.split()) and huck["source_url"].endswith("/pg76.txt")
    assert {b.author for b in find_books(tmp_path / "books")} == {"mark-twain"}

    limited = download_author("twain", 2, tmp_path / "two", settings_for(fake))
    assert [entry.id for entry in limited.written] == [str(HUCK), str(TOM)]
    assert len(fake.searches) == 3, "two books were found on the first page: no second page"


def test_unknown_author_names_who_the_search_found(fake: FakeGutenberg, tmp_path: Path) -> None:
    twain_catalog(fake)
    with pytest.raises(CatalogError, match=r"no English books by 'Albert Twain'.*Twain, Mark"):
        download_author("Albert Twain", 5, tmp_path / "books", settings_for(fake))
    fake.catalog_pages = []
    with pytest.raises(CatalogError, match=r"no English books by 'Nobody'.*--ids"):
        download_author("Nobody", 5, tmp_path / "books", settings_for(fake))
    assert not list((tmp_path / "books").glob("*.txt"))


def test_by_ids_names_books_from_their_header_and_tries_the_files_path(
    fake: FakeGutenberg, tmp_path: Path
) -> None:
    fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    fake.add_book(120, "The Prince and the Pauper", "Mark Twain", files_path=True)
    report = download_ids([120, HUCK], tmp_path, settings_for(fake))
    assert [entry.file for entry in report.written] == [
        "mark-twain--the-prince-and-the-pauper.txt",
        "mark-twain--adventures-of-huckleberry-finn.txt",
    ]
    assert fake.requests[fake.cache_path(120)] == 1, "the cache path was tried first"
    assert manifest_rows(tmp_path)["120"]["source_url"] == f"{fake.url}/files/120/120-0.txt"
    assert (tmp_path / report.written[0].file).read_text() == cleaned(
        120, "The Prince and the Pauper", "Mark Twain"
    )


def test_a_503_is_retried_then_the_book_downloads(fake: FakeGutenberg, tmp_path: Path) -> None:
    path = fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    fake.fail_next[path] = [503, 503]
    report = download_ids([HUCK], tmp_path, settings_for(fake))
    assert [entry.id for entry in report.written] == [str(HUCK)] and fake.requests[path] == 3
    fake.fail_next[FakeGutenberg.cache_path(TOM)] = [503] * 3
    fake.add_book(TOM, "The Adventures of Tom Sawyer", "Mark Twain")
    report = download_ids([TOM], tmp_path / "more", settings_for(fake))
    assert "after 3 attempts" in report.failed[str(TOM)] and report.books == 0


def test_a_missing_id_is_skipped_with_a_warning(
    fake: FakeGutenberg, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    fake.files[fake.cache_path(5)] = b"<!DOCTYPE html><html>Are you a robot?</html>"
    with caplog.at_level(logging.WARNING, logger="trainer.data.gutenberg"):
        report = download_ids([999, 5, HUCK], tmp_path, settings_for(fake))
    assert [entry.id for entry in report.written] == [str(HUCK)]
    assert "HTTP 404" in report.failed["999"] and "/files/999/999-0.txt" in report.failed["999"]
    assert "HTML, not a plain-text book" in report.failed["5"]
    assert any("999" in record.getMessage() for record in caplog.records)
    assert fake.requests[fake.cache_path(999)] == 1, "a 404 is not retried"


def test_books_already_there_are_skipped_and_a_changed_one_is_fetched_again(
    fake: FakeGutenberg, tmp_path: Path
) -> None:
    huck = fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    tom = fake.add_book(TOM, "The Adventures of Tom Sawyer", "Mark Twain")
    first = download_ids([HUCK, TOM], tmp_path, settings_for(fake))
    again = download_ids([HUCK, TOM], tmp_path, settings_for(fake))
    assert len(first.written) == 2 and not again.written and len(again.kept) == 2
    assert fake.requests[huck] == fake.requests[tom] == 1

    damaged = tmp_path / "mark-twain--the-adventures-of-tom-sawyer.txt"
    damaged.write_text("Paragraph 0 of The Adventures of Tom Sawyer: the riv")
    repaired = download_ids([HUCK, TOM], tmp_path, settings_for(fake))
    assert [entry.id for entry in repaired.written] == [str(TOM)] and len(repaired.kept) == 1
    assert fake.requests[tom] == 2 and fake.requests[huck] == 1
    assert damaged.read_text() == cleaned(TOM, "The Adventures of Tom Sawyer", "Mark Twain")
    assert (
        hashlib.sha256(damaged.read_bytes()).hexdigest() == manifest_rows(tmp_path)["74"]["sha256"]
    )


def test_a_dropped_connection_leaves_no_partial_book(fake: FakeGutenberg, tmp_path: Path) -> None:
    fake.add_book(HUCK, "Adventures of Huckleberry Finn", "Mark Twain")
    cut = fake.add_book(TOM, "The Adventures of Tom Sawyer", "Mark Twain")
    fake.cut_off.add(cut)
    report = download_ids([HUCK, TOM], tmp_path, settings_for(fake))
    assert fake.requests[cut] == 3 and "RemoteProtocolError" in report.failed[str(TOM)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MANIFEST,
        "mark-twain--adventures-of-huckleberry-finn.txt",
    ]
    assert list(manifest_rows(tmp_path)) == [str(HUCK)], "the first book was recorded at once"

    fake.cut_off.clear()
    (tmp_path / ".mark-twain--x.txt.part").write_text("a run killed mid-write")
    report = download_ids([HUCK, TOM], tmp_path, settings_for(fake))
    assert [entry.id for entry in report.written] == [str(TOM)]
    assert not list(tmp_path.glob(".*")), "the stale part file was removed"
    assert (tmp_path / report.written[0].file).read_text() == cleaned(
        TOM, "The Adventures of Tom Sawyer", "Mark Twain"
    )


def test_a_foreign_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("file,author,title,words,source\n")
    with pytest.raises(ValueError, match="not a books manifest"):
        BookFolder(tmp_path)


def test_from_folder_copies_the_corpus_with_a_manifest(corpus_books: Path, tmp_path: Path) -> None:
    books = find_books(corpus_books)
    report = copy_local_books(corpus_books, tmp_path / "books")
    assert len(report.written) == len(books) and not report.failed
    copied = find_books(tmp_path / "books")
    assert [(b.author, b.title) for b in copied] == [(b.author, b.title) for b in books]
    rows = manifest_rows(tmp_path / "books")
    name = "mark-twain--a-dog-s-tale.txt"
    assert rows[name]["source_url"] == (corpus_books / name).resolve().as_uri()
    text = (tmp_path / "books" / name).read_text(encoding="utf-8")
    assert int(rows[name]["words"]) == len(text.split()) > 1000
    again = copy_local_books(corpus_books, tmp_path / "books")
    assert not again.written and len(again.kept) == len(books)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(FileNotFoundError, match="no books in"):
        copy_local_books(tmp_path / "nothing", tmp_path / "empty")


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stylegrpo", "data", "download", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip


def test_cli_downloads_by_author_and_fails_when_nothing_downloads(
    fake: FakeGutenberg, tmp_path: Path
) -> None:
    twain_catalog(fake)
    out = tmp_path / "books"
    result = run_cli(
        ["--author", "Mark Twain", "--catalog", fake.url, "--out", str(out), "--delay", "0"],
        env={"STYLEGRPO_GUTENBERG_MIRROR": fake.url},
    )
    assert result.returncode == 0, result.stderr
    assert "3 books written, 0 already there, 0 failed" in result.stdout
    assert len(manifest_rows(out)) == 3

    result = run_cli(["--ids", "999", "--mirror", fake.url, "--out", str(tmp_path / "none")])
    assert result.returncode == 1
    assert "failed 999" in result.stderr and "no book was downloaded" in result.stderr

    result = run_cli(["--ids", "76", "--author", "Mark Twain", "--out", str(out)])
    assert result.returncode == 2 and "exactly one of" in result.stderr
