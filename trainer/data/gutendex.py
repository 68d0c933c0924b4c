"""Find an author's English books in a Gutendex-style catalog (`GET {api}/books?search=...`).

The catalog answers pages of `{"next": URL|null, "results": [{"id", "title", "authors":
[{"name": "Twain, Mark"}], "media_type"}]}`, most downloaded first. Its search also matches
titles and other people, so results are kept only when one of their authors is the one asked
for, and only the first (most downloaded) edition of each title.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from shared.book_folder import slugify
from shared.http import RetryingHTTP, RewardServiceError

_PARENTHESES = re.compile(r"\([^)]*\)")


class CatalogError(Exception):
    """The catalog could not be read, or it has no books by the author asked for."""


@dataclass(frozen=True)
class CatalogBook:
    """One ebook the catalog lists: its number, the matching author (first name first), title."""

    id: int
    author: str
    title: str


class _Person(BaseModel):
    name: str


class _Result(BaseModel):
    id: int
    title: str
    authors: list[_Person]
    media_type: str = "Text"


class _Page(BaseModel):
    next: str | None = None
    results: list[_Result]


def display_name(catalog_name: str) -> str:
    """A catalog's `Last, First (Full names)` as `First Last`.

    >>> display_name("Twain, Mark"), display_name("Wodehouse, P. G. (Pelham Grenville)")
    ('Mark Twain', 'P. G. Wodehouse')
    """
    name = " ".join(_PARENTHESES.sub("", catalog_name).split()).strip(" ,")
    last, comma, first = name.partition(", ")
    return f"{first} {last}" if comma else name


def author_matches(query: str, catalog_name: str) -> bool:
    """Whether every word of `query` is in the catalog's name, or both slugs agree.

    >>> [author_matches(q, "Twain, Mark") for q in ("mark twain", "Twain", "Mark Hopkins")]
    [True, True, False]
    >>> author_matches("pg wodehouse", "Wodehouse, P. G. (Pelham Grenville)")
    True
    """
    words = set(re.findall(r"[a-z0-9]+", catalog_name.lower()))
    wanted = set(re.findall(r"[a-z0-9]+", query.lower()))
    if wanted and wanted <= words:
        return True
    slug = slugify(query, "")
    return bool(slug) and slug == slugify(display_name(catalog_name), "")


async def find_author_books(
    http: RetryingHTTP, api: str, author: str, limit: int
) -> list[CatalogBook]:
    """Up to `limit` English text ebooks by `author`, one per title, most downloaded first."""
    url: str | None = f"{api}/books?{urlencode({'search': author, 'languages': 'en'})}"
    found: list[CatalogBook] = []
    titles: set[str] = set()
    others: Counter[str] = Counter()
    visited: set[str] = set()
    while url and url not in visited and len(found) < limit:
        visited.add(url)
        page = await _read_page(http, url)
        for result in page.results:
            names = [person.name for person in result.authors]
            match = next((name for name in names if author_matches(author, name)), None)
            if match is None:
                others.update(names)
                continue
            title = " ".join(result.title.split())
            if result.media_type != "Text" or slugify(title, "") in titles:
                continue
            titles.add(slugify(title, ""))
            found.append(CatalogBook(id=result.id, author=display_name(match), title=title))
            if len(found) == limit:
                break
        url = page.next
    if not found:
        hint = "; ".join(name for name, _ in others.most_common(5))
        raise CatalogError(
            f"the catalog at {api} has no English books by {author!r}"
            + (f" (its search found books by: {hint})" if hint else "")
            + ". Check the spelling, e.g. 'Mark Twain', or pass --ids with ebook numbers."
        )
    return found


async def _read_page(http: RetryingHTTP, url: str) -> _Page:
    try:
        response = await http.request("GET", url)
    except RewardServiceError as exc:
        raise CatalogError(f"could not read the book catalog: {exc}") from None
    try:
        return _Page.model_validate_json(response.content)
    except ValidationError as exc:
        raise CatalogError(
            f"{url} did not answer with a Gutendex catalog page "
            f"({exc.error_count()} problems, first: {exc.errors()[0]['msg']}); check --catalog"
        ) from None
