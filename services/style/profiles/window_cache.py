"""Embed a books folder's sampled windows once and cache them on disk, keyed by content."""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from services.style.encoding.encoder import WindowEncoder
from services.style.profiles.book_windows import (
    SampledWindow,
    sample_book_windows,
    split_into_parts,
)
from services.style.profiles.discriminant import CorpusEmbeddings
from services.style.profiles.policy_texts import windows_fingerprint
from shared.book_folder import Book, corpus_fingerprint
from shared.files import replaced_file

log = logging.getLogger(__name__)
# A negative source is one long text; cut into parts, each can be held out like a book.
NEGATIVE_PARTS = 4


def load_corpus_embeddings(
    books: list[Book],
    encoder: WindowEncoder,
    *,
    windows_per_book: int,
    windows_per_negative: int,
    cache_dir: Path,
    negatives: list[Book],
    policy: list[SampledWindow] | None = None,
) -> CorpusEmbeddings:
    """The corpus's window embeddings: from the cache when model and texts are unchanged.

    `policy`: windows of the policy's own stories, embedded as they are (every one)."""
    policy = policy or []
    key = hashlib.sha256(
        json.dumps(
            {
                "format": 3,
                "model": encoder.name,
                "runtime": encoder.variant,
                "window_tokens": encoder.window_tokens,
                "windows_per_book": windows_per_book,
                "windows_per_negative": windows_per_negative,
                "negative_parts": NEGATIVE_PARTS,
                "corpus": corpus_fingerprint(books),
                "negatives": corpus_fingerprint(negatives),
                "policy": windows_fingerprint(policy),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    path = cache_dir / f"corpus-{key}.npz"
    if path.exists():
        try:
            with np.load(path) as cached:
                log.info("profile embeddings from cache %s", path)
                return CorpusEmbeddings(
                    cached["embeddings"], cached["authors"], cached["titles"], cached["texts"]
                )
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("ignoring unreadable profile cache %s: %s", path, exc)
    windows = [
        window
        for book in books
        for window in sample_book_windows(
            book, encoder.tokenizer, count=windows_per_book, window_tokens=encoder.window_tokens
        )
    ]
    for negative in negatives:
        sampled = sample_book_windows(
            negative,
            encoder.tokenizer,
            count=windows_per_negative,
            window_tokens=encoder.window_tokens,
        )
        windows += split_into_parts(sampled, NEGATIVE_PARTS)
    windows += policy
    log.info(
        "embedding %d windows from %d books, %d negative sources and %d policy windows "
        "(cached afterwards)",
        len(windows),
        len(books),
        len(negatives),
        len(policy),
    )
    corpus = CorpusEmbeddings(
        embeddings=encoder.encode([w.text for w in windows], show_progress=True),
        authors=np.array([w.author for w in windows]),
        titles=np.array([w.title for w in windows]),
        texts=np.array([w.text for w in windows]),
    )
    with replaced_file(path) as handle:
        np.savez(
            handle,
            embeddings=corpus.embeddings,
            authors=corpus.authors,
            titles=corpus.titles,
            texts=corpus.texts,
        )
    return corpus
