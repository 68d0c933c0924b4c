"""The n-gram authorship classifier beside the encoder, and each profile's stacked calibration.

Fitting takes seconds to a minute (a classifier per fold of books, for honest held-out scores),
so the fitted classifier and the held-out decisions are cached on disk, keyed by everything
they depend on; the stacking itself is refitted at every load (milliseconds).
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.style.classifier.ngrams import (
    FloatArray,
    NgramClassifier,
    fit_ngram_classifier,
    out_of_fold_decisions,
)
from services.style.classifier.stacking import StackedCalibration, fit_stacked_calibration
from services.style.encoding.windows import Tokenizer
from services.style.profiles.book_windows import (
    SampledWindow,
    sample_book_windows,
    split_into_parts,
)
from services.style.profiles.discriminant import CorpusEmbeddings, held_out_projections, unit
from services.style.profiles.policy_texts import POLICY_AUTHOR, windows_fingerprint
from services.style.profiles.window_cache import NEGATIVE_PARTS
from shared.book_folder import Book, corpus_fingerprint
from shared.files import replaced_file

log = logging.getLogger(__name__)
CACHE_FORMAT = 2


@dataclass(frozen=True)
class ClassifierSampling:
    """How many windows of each book and negative source train the classifier, in how many
    folds of books its held-out decisions are computed."""

    windows_per_book: int
    windows_per_negative: int
    folds: int
    stuffing: bool = True
    policy_share: float = 0.0


@dataclass
class AuthorshipAnchor:
    """The fitted classifier and, per author, how its log-odds combine with the encoder's."""

    classifier: NgramClassifier
    calibrations: dict[str, StackedCalibration]


@dataclass
class _FittedClassifier:
    classifier: NgramClassifier
    held_out: dict[str, FloatArray]


def build_anchor(
    books: list[Book],
    negatives: list[Book],
    corpus: CorpusEmbeddings,
    authors: list[str],
    *,
    tokenizer: Tokenizer,
    tokenizer_name: str,
    window_tokens: int,
    sampling: ClassifierSampling,
    cache_dir: Path,
    policy: list[SampledWindow] | None = None,
) -> AuthorshipAnchor:
    """Fit (or read from cache) the classifier and stack it with the encoder for each author.

    `policy`: windows of the policy's own stories (`services.style.profiles.policy_texts`),
    trained on as they are (every one) and grouped by prompt like books by title."""
    policy = policy or []
    key = hashlib.sha256(
        json.dumps(
            {
                "format": CACHE_FORMAT,
                "tokenizer": tokenizer_name,
                "window_tokens": window_tokens,
                "sampling": [
                    sampling.windows_per_book,
                    sampling.windows_per_negative,
                    sampling.folds,
                    sampling.stuffing,
                    sampling.policy_share,
                ],
                "authors": authors,
                "corpus": corpus_fingerprint(books),
                "negatives": corpus_fingerprint(negatives),
                "policy": windows_fingerprint(policy),
                "targets": hashlib.sha256("\0".join(corpus.texts.tolist()).encode()).hexdigest(),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    path = cache_dir / f"classifier-{key}.pkl"
    fitted = _read_cache(path)
    if fitted is None:
        fitted = _fit(books, negatives, policy, corpus, authors, tokenizer, window_tokens, sampling)
        with replaced_file(path) as handle:
            pickle.dump(fitted, handle, protocol=pickle.HIGHEST_PROTOCOL)
    x = unit(corpus.embeddings)
    calibrations = {}
    for author in authors:
        own = corpus.authors == author
        projections = held_out_projections(x, own, corpus.titles)
        calibrations[author] = fit_stacked_calibration(
            projections,
            fitted.held_out[author],
            corpus.authors,
            author,
            policy_label=POLICY_AUTHOR,
            policy_share=sampling.policy_share,
        )
    return AuthorshipAnchor(classifier=fitted.classifier, calibrations=calibrations)


def _fit(
    books: list[Book],
    negatives: list[Book],
    policy: list[SampledWindow],
    corpus: CorpusEmbeddings,
    authors: list[str],
    tokenizer: Tokenizer,
    window_tokens: int,
    sampling: ClassifierSampling,
) -> _FittedClassifier:
    from tqdm import tqdm

    windows: list[SampledWindow] = []
    for book in tqdm(books, desc="classifier windows", unit="book"):
        windows += sample_book_windows(
            book, tokenizer, count=sampling.windows_per_book, window_tokens=window_tokens
        )
    for negative in negatives:
        sampled = sample_book_windows(
            negative, tokenizer, count=sampling.windows_per_negative, window_tokens=window_tokens
        )
        windows += split_into_parts(sampled, NEGATIVE_PARTS)
    windows += policy
    texts = [w.text for w in windows]
    labels = np.array([w.author for w in windows])
    groups = np.array([w.title for w in windows])
    log.info(
        "fitting the n-gram classifier on %d windows (%d folds of books held out in turn)",
        len(texts),
        sampling.folds,
    )
    held_out = out_of_fold_decisions(
        texts,
        labels,
        groups,
        corpus.texts.tolist(),
        corpus.titles,
        authors,
        folds=sampling.folds,
        stuffing=sampling.stuffing,
        policy_share=sampling.policy_share,
    )
    classifier = fit_ngram_classifier(
        texts, labels, authors, stuffing=sampling.stuffing, policy_share=sampling.policy_share
    )
    return _FittedClassifier(classifier, held_out)


def _read_cache(path: Path) -> _FittedClassifier | None:
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            fitted = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError) as exc:
        log.warning("ignoring unreadable classifier cache %s: %s", path, exc)
        return None
    if not isinstance(fitted, _FittedClassifier):
        log.warning("ignoring classifier cache %s: unexpected content", path)
        return None
    log.info("n-gram classifier from cache %s", path)
    return fitted
