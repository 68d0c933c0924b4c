"""A supervised authorship classifier on character and word n-grams.

Sentence embeddings mostly encode topic. The classic evidence of authorship is in frequencies:
function words, punctuation habits, spelling and dialect, which character 2-4-grams and word
1-2-grams (TF-IDF, sublinear) capture. A class-balanced logistic regression per author on those
features separates held-out books of the corpus almost perfectly, where a discriminant on MiniLM
embeddings reaches about 0.90 AUC (see `stylegrpo eval-authorship` for the measured figures).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from services.style.classifier.stuffing import STUFFING_EVERY_WORDS, distinctive_words, stuff
from services.style.profiles.contrast_weights import contrast_weights
from services.style.profiles.policy_texts import POLICY_AUTHOR

FloatArray = NDArray[np.float64]
# Words keep apostrophes inside them ("warn't", "reckon'd"); punctuation marks are tokens too.
WORD_PATTERN = r"(?u)\b\w[\w']*\b|[^\w\s]"
MAX_FEATURES = 200_000
REGULARISATION_C = 10.0
STUFFED = "stuffed copies"


@dataclass
class NgramClassifier:
    """One shared n-gram vectoriser and a binary `author vs everyone else` model per author."""

    vectoriser: FeatureUnion
    models: dict[str, LogisticRegression]

    def decisions(self, texts: list[str]) -> dict[str, FloatArray]:
        """Each author's log-odds for every text (positive: reads like that author)."""
        features = self.vectoriser.transform(texts)
        return {
            author: model.decision_function(features).astype(np.float64)
            for author, model in self.models.items()
        }

    def decision(self, texts: list[str], author: str) -> FloatArray:
        """`author`'s log-odds for every text."""
        if not texts:
            return np.zeros(0)
        features = self.vectoriser.transform(texts)
        values: FloatArray = self.models[author].decision_function(features).astype(np.float64)
        return values


def make_vectoriser() -> FeatureUnion:
    """Character 2-4-grams within word boundaries plus word 1-2-grams, TF-IDF, sublinear tf."""
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 4),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=MAX_FEATURES,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    token_pattern=WORD_PATTERN,
                    max_features=MAX_FEATURES,
                ),
            ),
        ]
    )


def fit_ngram_classifier(
    texts: list[str],
    labels: NDArray[np.str_],
    authors: list[str],
    *,
    stuffing: bool = True,
    policy_share: float = 0.0,
) -> NgramClassifier:
    """Fit the vectoriser on `texts` and one model per author in `authors` (labels: whose).

    With `stuffing`, each author's model also learns from stuffed copies of everyone else's
    texts (`services.style.classifier.stuffing`), labelled as not the author's. Texts labelled as
    the policy's (`POLICY_AUTHOR`) carry `policy_share` of the contrast weight
    (`services.style.profiles.contrast_weights`); without them the fit is class-balanced.
    """
    missing = [a for a in authors if not (labels == a).any()]
    if missing:
        raise ValueError(f"no training texts for author(s): {', '.join(missing)}")
    if len(set(labels.tolist())) < 2:
        raise ValueError("the classifier needs texts by two or more authors (or a negative source)")
    vectoriser = make_vectoriser()
    features = vectoriser.fit_transform(texts)
    models = {}
    for author in authors:
        x, kinds = features, labels
        if stuffing:
            stuffed = stuffed_copies(texts, labels, author)
            x = sparse.vstack([features, vectoriser.transform(stuffed)]).tocsr()
            kinds = np.concatenate([labels, np.full(len(stuffed), STUFFED)])
        weights = contrast_weights(kinds, author, weighted_label=POLICY_AUTHOR, share=policy_share)
        model = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
        models[author] = model.fit(x, kinds == author, sample_weight=weights)
    return NgramClassifier(vectoriser=vectoriser, models=models)


def stuffed_copies(texts: list[str], labels: NDArray[np.str_], author: str) -> list[str]:
    """Every text not by `author`, with `author`'s most distinctive words of `texts` stuffed
    in (seeded by the author's name, so a refit gives the same copies)."""
    by_label: dict[str, list[str]] = {}
    for text, label in zip(texts, labels.tolist(), strict=True):
        by_label.setdefault(label, []).append(text)
    markers = distinctive_words(by_label, author)
    rng = random.Random(author)
    others = [t for t, label in zip(texts, labels.tolist(), strict=True) if label != author]
    return [stuff(t, markers, rng, every=STUFFING_EVERY_WORDS) for t in others]


def fold_of_group(groups: NDArray[np.str_], folds: int) -> dict[str, int]:
    """Assign whole groups (books) to folds round-robin in sorted order: no book spans two.

    >>> fold_of_group(np.array(["b", "a", "c", "a"]), 2)
    {'a': 0, 'b': 1, 'c': 0}
    """
    return {group: i % folds for i, group in enumerate(sorted(set(groups.tolist())))}


def out_of_fold_decisions(
    train_texts: list[str],
    train_labels: NDArray[np.str_],
    train_groups: NDArray[np.str_],
    targets: list[str],
    target_groups: NDArray[np.str_],
    authors: list[str],
    *,
    folds: int,
    stuffing: bool = True,
    policy_share: float = 0.0,
) -> dict[str, FloatArray]:
    """Each author's decision on every target text from a model that never saw its book.

    Books are split into `folds` folds; a target text is scored by the classifier trained on
    the other folds' books, so calibration sees the scores a new book would get.
    """
    fold_of = fold_of_group(np.concatenate([train_groups, target_groups]), folds)
    train_fold = np.array([fold_of[g] for g in train_groups.tolist()])
    target_fold = np.array([fold_of[g] for g in target_groups.tolist()])
    result = {author: np.full(len(targets), np.nan) for author in authors}
    for fold in range(folds):
        scored = np.flatnonzero(target_fold == fold)
        training = np.flatnonzero(train_fold != fold)
        if not len(scored):
            continue
        kept = [a for a in authors if (train_labels[training] == a).any()]
        classifier = fit_ngram_classifier(
            [train_texts[i] for i in training],
            train_labels[training],
            kept,
            stuffing=stuffing,
            policy_share=policy_share,
        )
        for author, values in classifier.decisions([targets[i] for i in scored]).items():
            result[author][scored] = values
    return result
