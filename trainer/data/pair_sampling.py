"""Draw scored passage pairs for one split of the style-pair dataset.

Kinds of pair and their scores (the original's scheme):
- `same_author`: two passages of one author from different books -> `same_author_score`;
- `same_author_same_title`: only for an author with a single book in the split: two passages
  from different chunks of that book -> `same_author_score`;
- `cross_author`: passages of two authors -> 0;
- `llm_generic`: an author's passage and generic LLM-written prose -> 0;
- `perturbed`: a passage and a copy with a fraction of its sentences replaced by another
  author's (or the LLM's) -> 1 - the fraction actually replaced.
Positives and negatives are drawn in equal numbers; authors are drawn uniformly, so a prolific
author does not crowd out the others.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from shared.text import words
from trainer.data.passages import Passage, perturb, replaced_count

SAME_AUTHOR = "same_author"
SAME_AUTHOR_SAME_TITLE = "same_author_same_title"
CROSS_AUTHOR = "cross_author"
LLM_GENERIC = "llm_generic"
PERTURBED = "perturbed"
POSITIVE_KINDS = (SAME_AUTHOR, SAME_AUTHOR_SAME_TITLE)
# Drawing gives up on a kind after this many tries per wanted pair (small inputs run out).
ATTEMPTS_PER_PAIR = 20

Drawn = tuple[Hashable, dict[str, Any]] | None


@dataclass(frozen=True)
class PairMix:
    """What a split's pairs are made of and how they are scored."""

    same_author_score: float = 1.0
    replace_ratios: tuple[float, ...] = (0.25, 0.5, 0.75)
    perturbed_share: float = 0.25
    llm_negative_share: float = 0.5
    min_words: int = 220
    max_words: int = 420


class PairSampler:
    """Draws pairs from one split's passages: `authored` (real authors) and `generic` (LLM)."""

    def __init__(
        self, authored: list[Passage], generic: list[Passage], mix: PairMix, rng: random.Random
    ) -> None:
        self.mix, self.rng, self.generic = mix, rng, generic
        self.by_author: dict[str, list[Passage]] = defaultdict(list)
        self.by_title: dict[tuple[str, str], list[Passage]] = defaultdict(list)
        for passage in authored:
            self.by_author[passage.author].append(passage)
            self.by_title[passage.author, passage.title].append(passage)
        self.authors = sorted(self.by_author)
        self.titles = {a: sorted({p.title for p in self.by_author[a]}) for a in self.authors}
        self.perturbable = {
            a: [p for p in self.by_author[a] if len(p.sentences) >= 2] for a in self.authors
        }

    def sample(self, total: int, *, perturbed: bool, desc: str) -> list[dict[str, Any]]:
        """`total` distinct pairs, shuffled: as many positives as negatives, plus the perturbed
        share when `perturbed`; fewer when the passages run out (none without passages)."""
        if not self.authors:
            return []
        share = self.mix.perturbed_share if perturbed else 0.0
        each = round(total * (1 - share)) // 2
        wanted_perturbed = total - 2 * each if perturbed else 0
        with tqdm(total=2 * each + wanted_perturbed, desc=desc, unit="pair") as bar:
            positives = self._draw(self._positive, each, bar)
            negatives = self._draw(self._negative, each, bar)
            balanced = min(len(positives), len(negatives))
            rows = positives[:balanced] + negatives[:balanced]
            rows += self._draw(self._perturbed, wanted_perturbed, bar)
        self.rng.shuffle(rows)
        return rows

    def _draw(self, make: Callable[[], Drawn], wanted: int, bar: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        seen: set[Hashable] = set()
        for _ in range(wanted * ATTEMPTS_PER_PAIR):
            if len(rows) >= wanted:
                break
            drawn = make()
            if drawn is None or drawn[0] in seen:
                continue
            seen.add(drawn[0])
            rows.append(drawn[1])
            bar.update()
        return rows

    def _positive(self) -> Drawn:
        author = self.rng.choice(self.authors)
        first = self.rng.choice(self.by_author[author])
        others = [t for t in self.titles[author] if t != first.title]
        if others:
            second = self.rng.choice(self.by_title[author, self.rng.choice(others)])
            kind = SAME_AUTHOR
        else:
            second = self.rng.choice(self.by_title[author, first.title])
            if second.chunk_index == first.chunk_index:  # neighbouring text: too easy
                return None
            kind = SAME_AUTHOR_SAME_TITLE
        pair = frozenset((first, second))
        return (kind, pair), _row(kind, first, second, second.text, self.mix.same_author_score)

    def _negative(self) -> Drawn:
        author = self.rng.choice(self.authors)
        first = self.rng.choice(self.by_author[author])
        use_generic = bool(self.generic) and (
            len(self.authors) < 2 or self.rng.random() < self.mix.llm_negative_share
        )
        if use_generic:
            second, kind = self.rng.choice(self.generic), LLM_GENERIC
        elif len(self.authors) >= 2:
            other = self.rng.choice([a for a in self.authors if a != author])
            second, kind = self.rng.choice(self.by_author[other]), CROSS_AUTHOR
        else:
            return None
        return (kind, frozenset((first, second))), _row(kind, first, second, second.text, 0.0)

    def _perturbed(self) -> Drawn:
        author = self.rng.choice(self.authors)
        if not self.perturbable[author]:
            return None
        original = self.rng.choice(self.perturbable[author])
        # Another author's passages, or the generic prose (None) when there is some.
        sources: list[str | None] = [a for a in self.authors if a != author]
        sources += [None] if self.generic else []
        if not sources:
            return None
        source = self.rng.choice(sources)
        donor = self.rng.choice(self.generic if source is None else self.by_author[source])
        ratio = self.rng.choice(self.mix.replace_ratios)
        if len(donor.sentences) < replaced_count(len(original.sentences), ratio):
            return None
        changed = perturb(original, donor, ratio, self.rng)
        if not self.mix.min_words <= len(words(changed.text)) <= self.mix.max_words:
            return None
        key = (PERTURBED, original, changed.text)
        return key, _row(PERTURBED, original, donor, changed.text, changed.kept_fraction)


def _row(kind: str, first: Passage, second: Passage, text: str, score: float) -> dict[str, Any]:
    """One dataset row; for `perturbed`, author2/title2 name the donor of the new sentences."""
    return {
        "sentence1": first.text,
        "sentence2": text,
        "score": float(score),
        "kind": kind,
        "author1": first.author,
        "author2": second.author,
        "title1": first.title,
        "title2": second.title,
    }
