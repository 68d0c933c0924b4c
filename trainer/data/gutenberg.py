"""Project Gutenberg books into a books folder, resumably: `stylegrpo data download`.

Books come by ebook number, by author through a Gutendex-style catalog, or from a local folder
of `AUTHOR--TITLE.txt` files (no network). Each text is fetched from the mirror's plain-text
paths (`/cache/epub/{id}/pg{id}.txt`, then `/files/{id}/{id}-0.txt`) with bounded retries and
backoff, one book at a time with a pause between them; its Gutenberg header and licence are
stripped and it is stored in a `BookFolder` (whole files only, a manifest with checksums, books
already there skipped).

    stylegrpo data download --author "Mark Twain" --limit 20 --out data/books
    stylegrpo data download --ids 76,74 --out data/books
    stylegrpo data download --from-folder ../shared/corpus/books --out data/books
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from shared.book_folder import (
    AUTHOR_TITLE_SEPARATOR,
    BookFolder,
    ManifestEntry,
    find_books,
    sha256_hex,
)
from shared.http import RequestRejectedError, RetryingHTTP, RewardServiceError
from trainer.data.cleaning import strip_gutenberg
from trainer.data.gutenberg_settings import GutenbergSettings
from trainer.data.gutendex import CatalogBook, find_author_books

log = logging.getLogger(__name__)

TEXT_PATHS = ("/cache/epub/{id}/pg{id}.txt", "/files/{id}/{id}-0.txt")
HEADER_CHARS = 5000
CONNECT_TIMEOUT_S = 10.0
_TITLE = re.compile(r"^Title:[ \t]*(\S.*(?:\n[ \t]+\S.*)*)", re.MULTILINE)
_AUTHOR = re.compile(r"^Authors?:[ \t]*(\S.*)", re.MULTILINE)
_PARENTHESES = re.compile(r"\([^)]*\)")


class EbookUnavailableError(Exception):
    """An ebook could not be had: not on the mirror, not plain text, or the mirror kept failing."""


@dataclass
class DownloadReport:
    """What one run did: books written, books already there, and what failed (id: why)."""

    written: list[ManifestEntry] = field(default_factory=list)
    kept: list[ManifestEntry] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def books(self) -> int:
        """How many of the books asked for the folder now holds."""
        return len(self.written) + len(self.kept)


class _RedirectFollowingHTTP(RetryingHTTP):
    """`RetryingHTTP` that follows redirects: mirrors and catalogs move paths with 301/302."""

    def client(self) -> httpx.AsyncClient:
        client = super().client()
        client.follow_redirects = True
        return client


def parse_ebook_ids(text: str) -> list[int]:
    """Ebook numbers from `76,74 76`-style text, in order, each once.

    >>> parse_ebook_ids("76, 74,76")
    [76, 74]
    """
    parts = [part for part in re.split(r"[,\s]+", text) if part]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError(
            f"ebook ids are positive numbers separated by commas, e.g. 76,74; got {text!r}"
        )
    return list(dict.fromkeys(int(part) for part in parts))


def download_ids(ids: list[int], out: Path, settings: GutenbergSettings) -> DownloadReport:
    """Download ebooks by number into `out`, each named from its own Title/Author header."""

    async def work(http: RetryingHTTP) -> DownloadReport:
        return await _download(http, [(book_id, None) for book_id in ids], out, settings)

    return _run_with_http(settings, work)


def download_author(
    author: str, limit: int, out: Path, settings: GutenbergSettings
) -> DownloadReport:
    """Download up to `limit` English books by `author`, found in the catalog, into `out`.

    Raises `CatalogError` when the catalog cannot be read or lists no books by `author`.
    """

    async def work(http: RetryingHTTP) -> DownloadReport:
        books = await find_author_books(http, settings.catalog, author, limit)
        return await _download(http, [(book.id, book) for book in books], out, settings)

    return _run_with_http(settings, work)


def copy_local_books(source: Path, out: Path) -> DownloadReport:
    """Bring a local folder of `AUTHOR--TITLE.txt` books into `out`, cleaned, with the manifest."""
    if out.resolve() == source.resolve():
        raise ValueError(f"the source and output folders are both {source}: pick another --out")
    books = find_books(source)
    if not books:
        raise FileNotFoundError(
            f"no books in {source}: expected AUTHOR--TITLE.txt files or AUTHOR/TITLE.txt"
        )
    folder = BookFolder(out)
    report = DownloadReport()
    for book in tqdm(books, desc="copying books", unit="book"):
        name = f"{book.author}{AUTHOR_TITLE_SEPARATOR}{book.title}.txt"
        text = book_text(book.read_text())
        if not text:
            report.failed[name] = f"{book.path} has no text"
            continue
        entry = folder.entry_for_file(name)
        if entry and entry.sha256 == sha256_hex(text.encode("utf-8")) and folder.is_intact(entry):
            report.kept.append(entry)
            continue
        stored = folder.store(
            book_id="", author=book.author, title=book.title, file=name, text=text,
            source_url=book.path.resolve().as_uri(),
        )  # fmt: skip
        report.written.append(stored)
    return report


async def fetch_ebook(http: RetryingHTTP, mirror: str, book_id: int) -> tuple[str, str]:
    """Ebook `book_id`'s plain text as the mirror serves it, and the URL it came from."""
    missing = []
    for pattern in TEXT_PATHS:
        url = mirror + pattern.format(id=book_id)
        try:
            response = await http.request("GET", url)
        except RequestRejectedError as exc:
            if exc.status != 404:
                raise EbookUnavailableError(str(exc)) from None
            missing.append(url)
            continue
        except RewardServiceError as exc:
            raise EbookUnavailableError(str(exc)) from None
        text = _decode(response.content)
        if text.lstrip().startswith("<"):
            raise EbookUnavailableError(
                f"{url} answered with HTML, not a plain-text book: the mirror may be refusing "
                "automated downloads; try another --mirror"
            )
        return text, url
    raise EbookUnavailableError(
        f"not on the mirror (HTTP 404 at {' and '.join(missing)}); check the ebook number"
    )


def book_text(raw: str) -> str:
    """The book between Gutenberg's START and END lines, trimmed; empty if there is none."""
    body = strip_gutenberg(raw).strip()
    return body + "\n" if body else ""


def header_metadata(raw: str, book_id: int) -> tuple[str, str]:
    """The author and title a Gutenberg text names in its header (`Author:`, `Title:` lines).

    >>> header_metadata("Title: Tom Sawyer,\\n   Detective\\n\\nAuthor: Mark Twain (Clemens)", 93)
    ('Mark Twain', 'Tom Sawyer, Detective')
    >>> header_metadata("Chapter I", 7)
    ('Unknown', 'Ebook 7')
    """
    head = raw[:HEADER_CHARS].replace("\r\n", "\n")
    title, author = _TITLE.search(head), _AUTHOR.search(head)
    return (
        " ".join(_PARENTHESES.sub("", author.group(1)).split()) if author else "Unknown",
        " ".join(title.group(1).split()) if title else f"Ebook {book_id}",
    )


async def _download(
    http: RetryingHTTP,
    wanted: list[tuple[int, CatalogBook | None]],
    out: Path,
    settings: GutenbergSettings,
) -> DownloadReport:
    folder = BookFolder(out)
    report = DownloadReport()
    fetched_before = False
    with logging_redirect_tqdm():
        for book_id, known in tqdm(wanted, desc="downloading books", unit="book"):
            key = str(book_id)
            entry = folder.entry_for_id(key)
            if entry is not None and folder.is_intact(entry):
                report.kept.append(entry)
                continue
            if fetched_before:
                await asyncio.sleep(settings.delay_s)
            fetched_before = True
            try:
                raw, url = await fetch_ebook(http, settings.mirror, book_id)
                text = book_text(raw)
                if not text:
                    raise EbookUnavailableError(f"{url} has no text between its START and END")
            except EbookUnavailableError as exc:
                log.warning("skipped ebook %s: %s", book_id, exc)
                report.failed[key] = str(exc)
                continue
            author, title = (known.author, known.title) if known else header_metadata(raw, book_id)
            stored = folder.store(
                book_id=key, author=author, title=title, text=text, source_url=url,
                file=folder.file_name_for(key, author, title),
            )  # fmt: skip
            report.written.append(stored)
    return report


def _run_with_http(
    settings: GutenbergSettings, work: Callable[[RetryingHTTP], Awaitable[DownloadReport]]
) -> DownloadReport:
    async def main() -> DownloadReport:
        http = _RedirectFollowingHTTP(
            "",  # every request names a full URL: the catalog's `next` links are absolute
            headers={"User-Agent": settings.user_agent},
            connect_timeout=min(CONNECT_TIMEOUT_S, settings.timeout_s),
            read_timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            backoff_base=settings.backoff_base_s,
            backoff_max=settings.backoff_max_s,
        )
        try:
            return await work(http)
        finally:
            await http.aclose()

    return asyncio.run(main())


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:  # older texts are Latin-1
        return content.decode("latin-1")
