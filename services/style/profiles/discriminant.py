"""Author profiles: a discriminant direction per author, learned from the corpus in seconds.

Raw sentence-transformer similarity mostly measures topic, so a plain centroid barely tells
authors apart. A profile is instead the author's centroid minus everyone else's, whitened by the
within-group covariance (a shrunk linear discriminant): directions that vary with topic inside
every group are divided out, and what is left is much more about voice. Measured on the corpus
with the embedded MiniLM, 24 windows per book, each book (and each quarter of the generic-prose
negative source) held out in turn: Mark Twain windows vs other authors' windows, ROC AUC 0.46
with the raw centroid, 0.90 with this discriminant; vs held-out generic LLM-written prose 0.93
(0.57 for a centroid when no negative source is configured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from services.common.calibration import Calibration, fit_calibration

Matrix = NDArray[np.float32]
REFERENCE_CHUNK_WINDOWS = 4
# Ridge added to the within-group covariance, in units of its mean eigenvalue.
SHRINKAGE = 4.0


@dataclass(frozen=True)
class CorpusEmbeddings:
    """Embeddings of the sampled windows of every book, with each window's author, title and
    text."""

    embeddings: Matrix
    authors: NDArray[np.str_]
    titles: NDArray[np.str_]
    texts: NDArray[np.str_]


@dataclass(frozen=True)
class AuthorProfile:
    """One author's discriminant direction and the calibration of projections onto it."""

    name: str
    direction: NDArray[np.float32]
    calibration: Calibration
    books: int
    windows: int


@dataclass(frozen=True)
class ProfileSet:
    """Every author's profile, the corpus mean, and the calibration of similarity to a
    per-request reference text."""

    background: NDArray[np.float32]
    profiles: dict[str, AuthorProfile]
    reference_calibration: Calibration

    def centre(self, embeddings: Matrix) -> Matrix:
        """Unit embeddings moved to the corpus-centred space and normalised again."""
        return unit(unit(np.asarray(embeddings, dtype=np.float32)) - self.background)


def build_profiles(
    corpus: CorpusEmbeddings,
    profile_authors: list[str],
    *,
    contrast_only: frozenset[str] | set[str] = frozenset(),
) -> ProfileSet:
    """A profile for each of `profile_authors`, contrasted with every other group; groups in
    `contrast_only` (the policy's stories) never serve as a reference in its calibration."""
    groups = sorted(set(corpus.authors.tolist()))
    if len(groups) < 2:
        raise ValueError(
            f"the corpus has one author ({groups[0] if groups else 'none'}); profiles are "
            "contrasted with other authors, so add books by at least one more author"
        )
    x = unit(corpus.embeddings)
    background = unit_mean_of_groups(x, corpus.authors)
    profiles = {
        author: _author_profile(author, x, corpus.authors, corpus.titles)
        for author in profile_authors
    }
    centred = unit(x - background)
    return ProfileSet(
        background=background,
        profiles=profiles,
        reference_calibration=_reference_calibration(
            centred, corpus.authors, corpus.titles, contrast_only
        ),
    )


def unit_mean_of_groups(x: Matrix, groups: NDArray[np.str_]) -> NDArray[np.float32]:
    """The mean of each group's mean: every author weighs the same, whatever its size."""
    means = [x[groups == g].mean(axis=0) for g in sorted(set(groups.tolist()))]
    mean: NDArray[np.float32] = np.mean(means, axis=0).astype(np.float32)
    return mean


def discriminant(x: Matrix, own: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Shrunk linear discriminant separating rows `own` from the rest, unit length."""
    mine, rest = x[own], x[~own]
    scatter = np.concatenate([mine - mine.mean(axis=0), rest - rest.mean(axis=0)])
    covariance = scatter.T @ scatter / max(len(scatter) - 2, 1)
    ridge = SHRINKAGE * float(np.trace(covariance)) / covariance.shape[0]
    covariance += ridge * np.eye(covariance.shape[0], dtype=covariance.dtype)
    direction = np.linalg.solve(covariance, mine.mean(axis=0) - rest.mean(axis=0))
    return unit(direction.astype(np.float32))


def held_out_projections(
    x: Matrix, own: NDArray[np.bool_], titles: NDArray[np.str_]
) -> NDArray[np.float64]:
    """Each window's projection on a direction learned without its book (NaN where the rest
    has fewer than two of the author's windows), so calibration sees honest scores."""
    projections = np.full(len(x), np.nan)
    for title in sorted(set(titles.tolist())):
        held_out = titles == title
        if (own & ~held_out).sum() < 2:
            continue
        projections[held_out] = x[held_out] @ discriminant(x[~held_out], own[~held_out])
    return projections


def _author_profile(
    author: str, x: Matrix, authors: NDArray[np.str_], titles: NDArray[np.str_]
) -> AuthorProfile:
    own = authors == author
    if not own.any():
        raise ValueError(f"no windows for author {author!r}")
    projections = held_out_projections(x, own, titles)
    scored = ~np.isnan(projections)
    if not (own & scored).any():
        raise ValueError(f"author {author!r} has one book; profiles need two or more to calibrate")
    return AuthorProfile(
        name=author,
        direction=discriminant(x, own),
        calibration=fit_calibration(projections[own & scored], projections[~own & scored]),
        books=len(set(titles[own].tolist())),
        windows=int(own.sum()),
    )


def _reference_calibration(
    centred: Matrix,
    authors: NDArray[np.str_],
    titles: NDArray[np.str_],
    contrast_only: frozenset[str] | set[str],
) -> Calibration:
    """Similarity of a window to a reference made of a few consecutive windows of a book:
    windows of other books by the same author vs windows by other authors."""
    same: list[NDArray[np.float32]] = []
    other: list[NDArray[np.float32]] = []
    for title in sorted(set(titles.tolist())):
        in_book = np.flatnonzero(titles == title)
        author = authors[in_book[0]]
        if author in contrast_only:
            continue
        for start in range(0, len(in_book) - REFERENCE_CHUNK_WINDOWS + 1, REFERENCE_CHUNK_WINDOWS):
            chunk = in_book[start : start + REFERENCE_CHUNK_WINDOWS]
            similarity = centred @ unit(centred[chunk].mean(axis=0))
            same.append(similarity[(authors == author) & (titles != title)])
            other.append(similarity[authors != author])
    if not same or not np.concatenate(same).size:
        raise ValueError(
            "calibrating reference scoring needs an author with at least two books of "
            f"{REFERENCE_CHUNK_WINDOWS}+ windows each"
        )
    return fit_calibration(np.concatenate(same), np.concatenate(other))


def unit(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows (or a vector) scaled to unit length."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    scaled: NDArray[np.float32] = (x / np.maximum(norm, 1e-12)).astype(np.float32)
    return scaled
