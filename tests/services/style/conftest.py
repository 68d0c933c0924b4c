"""A style service over real HTTP, its profiles built from all but the held-out books."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
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
