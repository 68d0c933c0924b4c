"""The profile embedding cache: reused while model and books are unchanged, rebuilt otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.style.encoding.encoder import WindowEncoder
from services.style.profiles.book_windows import SampledWindow
from services.style.profiles.policy_texts import POLICY_AUTHOR, prompt_group
from services.style.profiles.window_cache import load_corpus_embeddings
from shared.book_folder import find_books

pytestmark = pytest.mark.slow


class CountingEncoder(WindowEncoder):
    """The real encoder, counting how many texts it embeds."""

    embedded = 0

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        CountingEncoder.embedded += len(texts)
        return super().encode(texts, show_progress=show_progress)


def write_book(folder: Path, name: str, topic: str) -> None:
    sentences = [f"The {topic} number {i} was spoken of all along the river." for i in range(300)]
    (folder / name).write_text(" ".join(sentences), encoding="utf-8")


@pytest.fixture(scope="module")
def encoder() -> CountingEncoder:
    return CountingEncoder(None, device="cpu", batch_size=16)


def load(
    books: Path, encoder: WindowEncoder, cache: Path, policy: list[SampledWindow] | None = None
) -> np.ndarray:
    corpus = load_corpus_embeddings(
        find_books(books),
        encoder,
        windows_per_book=2,
        windows_per_negative=2,
        cache_dir=cache,
        negatives=[],
        policy=policy,
    )
    assert policy is None or corpus.authors[-1] == POLICY_AUTHOR
    return corpus.embeddings


@pytest.fixture
def books(tmp_path: Path) -> Path:
    """Two tiny books by two authors."""
    folder = tmp_path / "books"
    folder.mkdir()
    write_book(folder, "ann--one.txt", "steamboat")
    write_book(folder, "bob--two.txt", "detective")
    return folder


def test_cache_is_reused_then_rebuilt_when_a_book_changes(
    books: Path, tmp_path: Path, encoder: CountingEncoder
) -> None:
    cache = tmp_path / "cache"
    first = load(books, encoder, cache)
    embedded = CountingEncoder.embedded
    assert embedded >= 4 and len(list(cache.glob("corpus-*.npz"))) == 1
    np.testing.assert_array_equal(load(books, encoder, cache), first)
    assert CountingEncoder.embedded == embedded, "unchanged books must come from the cache"
    write_book(books, "bob--two.txt", "lighthouse")
    load(books, encoder, cache)
    assert CountingEncoder.embedded > embedded
    assert len(list(cache.glob("corpus-*.npz"))) == 2
    assert not list(cache.glob(".tmp-*")), "no temporary files are left behind"


def test_a_torn_cache_file_is_ignored_and_rewritten(
    books: Path, tmp_path: Path, encoder: CountingEncoder
) -> None:
    cache = tmp_path / "cache"
    expected = load(books, encoder, cache)
    (path,) = cache.glob("corpus-*.npz")
    path.write_bytes(path.read_bytes()[:100])
    np.testing.assert_allclose(load(books, encoder, cache), expected, atol=1e-5)
    with np.load(path) as rewritten:
        assert rewritten["embeddings"].shape == expected.shape


def test_the_cache_is_rebuilt_when_the_policy_texts_change(
    books: Path, tmp_path: Path, encoder: CountingEncoder
) -> None:
    cache = tmp_path / "cache"

    def load_with_policy(story: str) -> np.ndarray:
        window = SampledWindow(POLICY_AUTHOR, prompt_group("Tell a tale."), story)
        return load(books, encoder, cache, policy=[window])

    first = load_with_policy("Once upon a time there was a raft.")
    embedded = CountingEncoder.embedded
    np.testing.assert_array_equal(load_with_policy("Once upon a time there was a raft."), first)
    assert CountingEncoder.embedded == embedded, "unchanged policy texts come from the cache"
    changed = load_with_policy("A magical journey of wonder began.")
    assert CountingEncoder.embedded > embedded
    assert len(list(cache.glob("corpus-*.npz"))) == 2
    assert not np.array_equal(changed[-1], first[-1])
