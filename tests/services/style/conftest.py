"""A style service over real HTTP, its profiles built from all but the held-out books."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.common.app import create_app
from services.launcher import wait_ready
from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings

READY_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def profile_books(
    corpus_books: Path, held_out_books: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Every corpus book but the held-out ones, as links in a fresh folder."""
    folder = tmp_path_factory.mktemp("profile-books")
    for book in corpus_books.glob("*--*.txt"):
        if book.name not in held_out_books:
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
    wait_ready(url, READY_TIMEOUT_S)
    return url
