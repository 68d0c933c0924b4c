"""The n-gram authorship classifier and its stacking with the encoder's projection."""

from __future__ import annotations

import random

import numpy as np
import pytest

from services.common.calibration import roc_auc
from services.style.classifier.ngrams import fit_ngram_classifier, out_of_fold_decisions
from services.style.classifier.stacking import fit_stacked_calibration
from services.style.classifier.stuffing import STUFFING_EVERY_WORDS, distinctive_words, stuff

RIVER = [
    "reckon",
    "warn't",
    "the",
    "raft",
    "river",
    "shore",
    "fog",
    "mighty",
    "considerable",
    "ain't",
    "powerful",
]
MOOR = [
    "indeed",
    "the",
    "moor",
    "upon",
    "whilst",
    "perceive",
    "singular",
    "remarkable",
    "doubtless",
    "inspector",
]
SHARED = ["and", "then", "a", "he", "she", "was", "it", "of", "to", "in", "on", "at", "by"]


def passage(vocabulary: list[str], rng: random.Random, words: int = 60) -> str:
    """Words drawn mostly from an author's vocabulary, with common words mixed in."""
    return " ".join(rng.choice(vocabulary if rng.random() < 0.4 else SHARED) for _ in range(words))


def crafted_books(rng: random.Random) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, authors, titles = [], [], []
    for author, vocabulary in (("river", RIVER), ("moor", MOOR)):
        for book in range(4):
            for _ in range(15):
                texts.append(passage(vocabulary, rng))
                authors.append(author)
                titles.append(f"{author}-{book}")
    return texts, np.array(authors), np.array(titles)


def test_the_classifier_tells_crafted_authors_apart_on_unseen_books() -> None:
    rng = random.Random(0)
    texts, authors, titles = crafted_books(rng)
    held_out = out_of_fold_decisions(
        texts, authors, titles, texts, titles, ["river", "moor"], folds=4
    )
    river = held_out["river"]
    assert not np.isnan(river).any()
    assert roc_auc(river[authors == "river"], river[authors == "moor"]) > 0.99
    assert (held_out["moor"][authors == "moor"] > 0).mean() > 0.9


def test_held_out_decisions_come_from_models_that_never_saw_the_book() -> None:
    """A word that only one book uses is evidence a model trained on that book would trust;
    scored out of fold, it is unknown, so a passage made of it gets no author's vote."""
    rng = random.Random(1)
    texts, authors, titles = crafted_books(rng)
    marker = " ".join(["zyzzyva"] * 60)
    texts += [marker] * 3
    authors = np.concatenate([authors, ["river"] * 3])
    titles = np.concatenate([titles, ["river-marked"] * 3])
    held_out = out_of_fold_decisions(
        texts, authors, titles, [marker], np.array(["river-marked"]), ["river"], folds=3
    )
    seen = fit_ngram_classifier(texts, authors, ["river"]).decision([marker], "river")
    assert seen[0] > 1.0
    assert held_out["river"][0] < seen[0] - 1.0


def test_the_classifier_needs_another_author() -> None:
    with pytest.raises(ValueError, match="two or more authors"):
        fit_ngram_classifier(["a b c", "a b d"], np.array(["x", "x"]), ["x"])


def test_stacking_weighs_the_better_witness_and_keeps_the_better_auc() -> None:
    rng = np.random.default_rng(0)
    own = np.arange(400) < 200
    classifier = np.where(own, 2.0, -2.0) + rng.normal(0, 1.0, 400)
    similarity = np.where(own, 0.1, 0.0) + rng.normal(0, 0.3, 400)
    similarity[:5] = np.nan  # windows without a held-out projection are left out of the fit
    stacked = fit_stacked_calibration(similarity, classifier, np.where(own, "a", "b"), "a")
    assert stacked.n_same + stacked.n_other == 395 and stacked.policy_auc is None
    assert stacked.classifier_auc > 0.95 and stacked.similarity_auc < 0.7
    assert stacked.auc >= stacked.classifier_auc - 0.005
    assert stacked.classifier_weight > 0
    scores = stacked.apply(np.array([0.0, 0.0]), np.array([3.0, -3.0]))
    assert scores[0] > 0.9 and scores[1] < 0.1


def test_stuffed_copies_teach_the_classifier_that_telltale_words_alone_are_not_the_author() -> None:
    """Authors with telltale words (8% of their words) and habits in common words: moor
    passages stuffed with river's telltale words every ~15 words gain less probability of being
    river's once the classifier has learned from stuffed copies, which lean it on the habits."""
    river_words = ["reckon", "warn't", "mighty", "considerable", "ain't", "raft"]
    moor_words = ["indeed", "whilst", "singular", "perceive", "doubtless", "moor"]
    river_habits = ["and", "then", "he", "was", "a", "got", "down"]
    moor_habits = ["upon", "which", "she", "had", "the", "one", "quite"]

    def habitual(telltale: list[str], habits: list[str], rng: random.Random) -> str:
        draws = (rng.random() for _ in range(60))
        return " ".join(
            rng.choice(telltale if r < 0.08 else habits if r < 0.5 else SHARED) for r in draws
        )

    rng = random.Random(0)
    texts = [habitual(river_words, river_habits, rng) for _ in range(60)]
    texts += [habitual(moor_words, moor_habits, rng) for _ in range(60)]
    authors = np.array(["river"] * 60 + ["moor"] * 60)
    assert set(river_words) <= set(
        distinctive_words({"river": texts[:60], "moor": texts[60:]}, "river")
    )
    moor = [habitual(moor_words, moor_habits, rng) for _ in range(40)]
    stuffed = [stuff(t, river_words, rng, every=STUFFING_EVERY_WORDS) for t in moor]
    river = [habitual(river_words, river_habits, rng) for _ in range(40)]
    rise = {}
    for stuffing in (False, True):
        model = fit_ngram_classifier(texts, authors, ["river"], stuffing=stuffing)
        probability = {
            name: 1 / (1 + np.exp(-model.decision(batch, "river")))
            for name, batch in (("moor", moor), ("stuffed", stuffed), ("river", river))
        }
        assert probability["river"].min() > probability["stuffed"].max()
        rise[stuffing] = float((probability["stuffed"] - probability["moor"]).mean())
    assert 0 < rise[True] < 0.8 * rise[False], rise
