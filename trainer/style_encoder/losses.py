"""The style encoder's training losses, and the training columns each needs from the pairs.

- `cosine`: the original's `CosineSimilarityLoss` on (sentence1, sentence2, score).
- `mnrl`: `MultipleNegativesRankingLoss` on (anchor, positive, negative): same-author pairs with
  a passage of another author as the hard negative. Its in-batch negatives may share the
  anchor's author, so it suits corpora of many authors better than a handful.
- `batch_hard_triplet`: `BatchHardTripletLoss` (cosine distance) on (text, author label):
  every original passage labelled with its author, batches grouped so each holds several
  authors; the hardest positive and negative of each text in the batch set the loss.
"""

from __future__ import annotations

import random
from typing import Any

from trainer.data.pair_sampling import PERTURBED, POSITIVE_KINDS


class PairsDataError(ValueError):
    """The pair dataset cannot train this loss (or is not a pair dataset); the message says why."""


def training_columns(pairs: Any, loss: str, seed: int) -> Any:
    """The train split (a `datasets.Dataset` of pairs) reshaped into the columns `loss` takes."""
    from datasets import Dataset

    if loss == "cosine":
        return pairs.select_columns(["sentence1", "sentence2", "score"])
    texts = authored_texts(pairs)
    if loss == "batch_hard_triplet":
        authors = sorted(set(texts.values()))
        if len(authors) < 2:
            raise PairsDataError("batch_hard_triplet needs passages of at least two authors")
        return Dataset.from_dict(
            {"text": list(texts), "label": [authors.index(a) for a in texts.values()]}
        )
    if loss == "mnrl":
        return Dataset.from_list(_triplets(pairs, texts, random.Random(seed)))
    raise ValueError(f"unknown loss {loss!r}")


def build_loss(model: Any, loss: str, *, triplet_margin: float) -> Any:
    """The loss module for `model`."""
    from sentence_transformers.sentence_transformer import losses

    if loss == "cosine":
        return losses.CosineSimilarityLoss(model)
    if loss == "mnrl":
        return losses.MultipleNegativesRankingLoss(model)
    if loss == "batch_hard_triplet":
        return losses.BatchHardTripletLoss(
            model,
            distance_metric=losses.BatchHardTripletLossDistanceFunction.cosine_distance,
            margin=triplet_margin,
        )
    raise ValueError(f"unknown loss {loss!r}")


def batch_sampler(loss: str) -> str:
    """How batches are drawn: triplet mining needs several authors per batch, and in-batch
    negatives must not repeat a text."""
    return {"batch_hard_triplet": "group_by_label", "mnrl": "no_duplicates"}.get(
        loss, "batch_sampler"
    )


def authored_texts(pairs: Any) -> dict[str, str]:
    """Every unaltered passage in the pairs and its author (perturbed copies left out)."""
    texts: dict[str, str] = {}
    for row in _rows(pairs):
        texts.setdefault(row["sentence1"], row["author1"])
        if row["kind"] != PERTURBED:
            texts.setdefault(row["sentence2"], row["author2"])
    return texts


def _rows(pairs: Any) -> list[dict[str, Any]]:
    """The pairs' text, author and kind columns as rows (read column-wise: much faster)."""
    columns = pairs.select_columns(["sentence1", "sentence2", "author1", "author2", "kind"])
    return [
        dict(zip(columns.column_names, values, strict=True))
        for values in zip(*(columns[name] for name in columns.column_names), strict=True)
    ]


def _triplets(pairs: Any, texts: dict[str, str], rng: random.Random) -> list[dict[str, str]]:
    by_author: dict[str, list[str]] = {}
    for text, author in texts.items():
        by_author.setdefault(author, []).append(text)
    rows = []
    for row in _rows(pairs):
        if row["kind"] not in POSITIVE_KINDS:
            continue
        others = [a for a in sorted(by_author) if a != row["author1"]]
        if not others:
            raise PairsDataError("mnrl needs passages of at least two authors for its negatives")
        negative = rng.choice(by_author[rng.choice(others)])
        rows.append(
            {"anchor": row["sentence1"], "positive": row["sentence2"], "negative": negative}
        )
    if not rows:
        raise PairsDataError("mnrl needs same-author pairs in the train split; there are none")
    return rows
