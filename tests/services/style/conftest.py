"""A style service on real books, held-out passages to score, and the settings behind them."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings

# Held out of the profile corpus, so scoring them says how the service generalises.
HELD_OUT_TWAIN = "mark-twain--a-horse-s-tale.txt"
HELD_OUT_DOYLE = "arthur-conan-doyle--sign-of-four.txt"
READY_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def corpus_books() -> Path:
    """The folder of books named by STYLEGRPO_BOOKS_DIR; tests that need it skip without it."""
    folder = os.environ.get("STYLEGRPO_BOOKS_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("no books: set STYLEGRPO_BOOKS_DIR to a folder of AUTHOR--TITLE.txt books")
    missing = [n for n in (HELD_OUT_TWAIN, HELD_OUT_DOYLE) if not (Path(folder) / n).is_file()]
    if missing:
        pytest.skip(f"the books folder lacks the held-out books {missing}")
    return Path(folder)


@pytest.fixture(scope="session")
def negative_texts() -> list[Path]:
    """Generic-prose files named by STYLEGRPO_NEGATIVE_TEXTS (comma-separated), if any."""
    value = os.environ.get("STYLEGRPO_NEGATIVE_TEXTS", "")
    return [Path(p) for p in value.split(",") if p and Path(p).is_file()]


@pytest.fixture(scope="session")
def profile_books(corpus_books: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every corpus book but the held-out ones, as links in a fresh folder."""
    folder = tmp_path_factory.mktemp("profile-books")
    for book in corpus_books.glob("*--*.txt"):
        if book.name not in (HELD_OUT_TWAIN, HELD_OUT_DOYLE):
            (folder / book.name).symlink_to(book.resolve())
    return folder


@pytest.fixture(scope="session")
def style_settings(
    profile_books: Path, negative_texts: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> StyleSettings:
    return StyleSettings(
        books_dir=profile_books,
        negative_texts=negative_texts,
        cache_dir=tmp_path_factory.mktemp("style-cache"),
        windows_per_book=12,
        windows_per_negative=48,
    )


@pytest.fixture(scope="session")
def style_url(style_settings: StyleSettings, run_asgi_session: Callable[[Any], str]) -> str:
    """A style service over real HTTP on 127.0.0.1, ready to score."""
    url = run_asgi_session(create_app(settings=style_settings, scorer=StyleScorer(style_settings)))
    wait_ready(url)
    return url


def wait_ready(url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll /ready until 200; fail with the service's reason if it cannot load."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/ready", timeout=5)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return
        if response is not None and response.json()["error"]["type"] == "load_failed":
            raise RuntimeError(response.json()["error"]["message"])
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready in {timeout_s}s")


def passages(books: Path, name: str, count: int, words: int = 1500) -> list[str]:
    """`count` passages of `words` words each, spread through a book, its own line breaks kept."""
    text = (books / name).read_text(encoding="utf-8")
    tokens = re.findall(r"\S+\s*", text)
    step = len(tokens) // (count + 1)
    return ["".join(tokens[step * (i + 1) : step * (i + 1) + words]) for i in range(count)]


@pytest.fixture(scope="session")
def twain_passages(corpus_books: Path) -> list[str]:
    """Three 1,500-word passages of a Mark Twain book the profile never saw."""
    return passages(corpus_books, HELD_OUT_TWAIN, 3)


@pytest.fixture(scope="session")
def doyle_passages(corpus_books: Path) -> list[str]:
    """Three 1,500-word passages of a Conan Doyle book the profile never saw."""
    return passages(corpus_books, HELD_OUT_DOYLE, 3)
