"""The style service's disk caches survive a crash mid-write and ignore a corrupt file."""

from __future__ import annotations

import logging
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from services.style.classifier.anchor import AuthorshipAnchor, ClassifierSampling, build_anchor
from services.style.encoding.encoder import WindowEncoder
from services.style.profiles.discriminant import CorpusEmbeddings
from services.style.profiles.window_cache import load_corpus_embeddings
from shared.book_folder import find_books

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[4]
# Writes the first half of SOURCE's bytes to TARGET through `replaced_file`, says so, then
# waits to be killed: a process dying in the middle of writing a cache.
HALF_WRITE = """
import sys, time
from pathlib import Path
from shared.files import replaced_file
target, source = Path(sys.argv[1]), Path(sys.argv[2])
data = source.read_bytes()
with replaced_file(target) as handle:
    handle.write(data[: len(data) // 2])
    handle.flush()
    print("half written", flush=True)
    time.sleep(600)
"""


def kill_mid_write(target: Path, source: Path) -> None:
    """Start rewriting `target` with `source`'s bytes in a subprocess and SIGKILL it halfway."""
    process = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITE, str(target), str(source)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "half written"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        if process.stdout is not None:
            process.stdout.close()
    temporaries = list(target.parent.glob(".tmp-*"))
    assert temporaries and temporaries[0].stat().st_size > 0, "the kill came mid-write"


def write_book(folder: Path, name: str, topic: str) -> None:
    sentences = [f"The {topic} number {i} was spoken of all along the river." for i in range(300)]
    (folder / name).write_text(" ".join(sentences), encoding="utf-8")


@pytest.fixture(scope="module")
def encoder() -> WindowEncoder:
    return WindowEncoder(None, device="cpu", batch_size=16)


@pytest.fixture
def books(tmp_path: Path) -> Path:
    """Four tiny books, two by each of two authors."""
    folder = tmp_path / "books"
    folder.mkdir()
    for name, topic in (
        ("ann--one.txt", "steamboat"),
        ("ann--two.txt", "raft"),
        ("bob--one.txt", "detective"),
        ("bob--two.txt", "lamp"),
    ):
        write_book(folder, name, topic)
    return folder


def corpus(books: Path, encoder: WindowEncoder, cache: Path) -> CorpusEmbeddings:
    return load_corpus_embeddings(
        find_books(books),
        encoder,
        windows_per_book=2,
        windows_per_negative=2,
        cache_dir=cache,
        negatives=[],
    )


def anchor(
    books: Path, encoder: WindowEncoder, embeddings: CorpusEmbeddings, cache: Path
) -> AuthorshipAnchor:
    return build_anchor(
        find_books(books),
        [],
        embeddings,
        ["ann", "bob"],
        tokenizer=encoder.tokenizer,
        tokenizer_name=encoder.name,
        window_tokens=encoder.window_tokens,
        sampling=ClassifierSampling(windows_per_book=2, windows_per_negative=2, folds=2),
        cache_dir=cache,
    )


def test_a_kill_mid_write_keeps_the_previous_profile_cache_or_none(
    books: Path, tmp_path: Path, encoder: WindowEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    expected = corpus(books, encoder, cache).embeddings
    (path,) = cache.glob("corpus-*.npz")
    whole = tmp_path / "whole.npz"
    whole.write_bytes(path.read_bytes())

    kill_mid_write(path, whole)
    assert path.read_bytes() == whole.read_bytes(), "the previous cache is untouched"
    caplog.set_level(logging.INFO)
    np.testing.assert_array_equal(corpus(books, encoder, cache).embeddings, expected)
    assert "profile embeddings from cache" in caplog.text

    path.unlink()
    kill_mid_write(path, whole)
    assert not path.exists(), "a first write cut off leaves no cache at all"
    caplog.clear()
    np.testing.assert_allclose(corpus(books, encoder, cache).embeddings, expected, atol=1e-5)
    assert "embedding 8 windows" in caplog.text, "rebuilt"
    with np.load(path) as rebuilt:
        assert rebuilt["embeddings"].shape == expected.shape


def test_a_corrupt_profile_cache_is_ignored_with_a_warning_and_rebuilt(
    books: Path, tmp_path: Path, encoder: WindowEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    expected = corpus(books, encoder, cache).embeddings
    (path,) = cache.glob("corpus-*.npz")
    path.write_bytes(b"not a zip archive at all")
    with caplog.at_level(logging.WARNING):
        np.testing.assert_allclose(corpus(books, encoder, cache).embeddings, expected, atol=1e-5)
    assert f"ignoring unreadable profile cache {path}" in caplog.text
    with np.load(path) as rebuilt:
        assert rebuilt["embeddings"].shape == expected.shape


def test_the_classifier_cache_survives_a_kill_mid_write_and_a_corrupt_file(
    books: Path, tmp_path: Path, encoder: WindowEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    embeddings = corpus(books, encoder, cache)
    fitted = anchor(books, encoder, embeddings, cache)
    (path,) = cache.glob("classifier-*.pkl")
    whole = tmp_path / "whole.pkl"
    whole.write_bytes(path.read_bytes())
    texts = embeddings.texts.tolist()[:2]
    expected = fitted.classifier.decision(texts, "ann")
    caplog.set_level(logging.INFO)

    kill_mid_write(path, whole)
    assert path.read_bytes() == whole.read_bytes(), "the previous cache is untouched"
    caplog.clear()
    np.testing.assert_allclose(
        anchor(books, encoder, embeddings, cache).classifier.decision(texts, "ann"), expected
    )
    assert "n-gram classifier from cache" in caplog.text

    path.unlink()
    kill_mid_write(path, whole)
    assert not path.exists(), "a first write cut off leaves no cache at all"

    path.write_bytes(whole.read_bytes()[:100])
    caplog.clear()
    np.testing.assert_allclose(
        anchor(books, encoder, embeddings, cache).classifier.decision(texts, "ann"), expected
    )
    assert f"ignoring unreadable classifier cache {path}" in caplog.text
    assert "fitting the n-gram classifier" in caplog.text
    with path.open("rb") as handle:
        assert pickle.load(handle).held_out.keys() == {"ann", "bob"}
