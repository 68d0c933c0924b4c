"""What the reward-hacking monitor measures, and when it raises an alarm (no TRL in here).

GRPO optimises whatever the rewards let it get away with: a policy can learn what the style
service's encoder likes rather than the author's voice, quote the author's books, or collapse
onto a few phrases that score well. A check measures a sample of recent completions with what
no reward sees:

- stylometry closeness and Delta to the author (`trainer.evaluation.stylometry`, function-word
  rates);
- the copied fraction and the longest copied run against the author's books (word n-grams,
  counted by the style service's own copy guard, `services.style.guards.copy`);
- distinct-1 and distinct-2: unique word n-grams over all n-grams of the whole sample;
- mean words per completion;

and each reward's mean over the same completions, so that a trend of one compares with a trend
of the other. A trend is the rise of the least-squares line through the last `window_checks`
checks, from the first check's step to the last's: it uses every check of the window, so a
zig-zag of noisy samples whose two ends happen to differ does not read as a trend.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.style.guards.copy import CopyIndex, build_copy_index, copy_report, words_of
from shared.book_folder import find_books
from trainer.evaluation.stylometry import StylometryProfile
from trainer.grpo.config import MonitorSettings

# The reward whose rise, with falling closeness, means the style scorer is being gamed.
STYLE_REWARD = "style"


@dataclass(frozen=True)
class MonitorCheck:
    """One check of sampled completions: independent measures, reward means, alarms raised."""

    step: int
    completions: int
    mean_words: float
    stylometry_closeness: float | None  # None: no sampled completion had a word
    stylometry_delta: float | None
    copied_fraction: float
    longest_copied_words: int
    distinct_1: float
    distinct_2: float
    rewards: dict[str, float | None]  # each reward's mean over the sample; None: none scored
    seconds: float
    alarms: tuple[str, ...] = field(default=())

    def to_record(self) -> dict[str, Any]:
        """The check as one line of the monitor log."""
        return {**asdict(self), "alarms": list(self.alarms)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> MonitorCheck:
        """A check read back from the monitor log."""
        return cls(**{**record, "alarms": tuple(record.get("alarms", ()))})

    def metrics(self) -> dict[str, float | None]:
        """The check as `monitor/...` keys, for the metrics log line of its step."""
        values: dict[str, float | None] = {
            "monitor/" + key: value
            for key, value in asdict(self).items()
            if key not in ("step", "rewards", "alarms")
        }
        values |= {f"monitor/rewards/{name}": mean for name, mean in self.rewards.items()}
        values["monitor/alarms"] = len(self.alarms)
        return values


class IndependentMeasures:
    """An author's stylometry profile and copy index, measuring samples of completions."""

    def __init__(self, profile: StylometryProfile, copy_index: CopyIndex) -> None:
        self.profile = profile
        self.copy_index = copy_index
        self.author = profile.author

    @classmethod
    def from_books(cls, folder: Path, author: str, ngram_words: int) -> IndependentMeasures:
        """Profile every author in `folder`, `author` the target; index `author`'s books only."""
        books = find_books(folder)
        own = [book for book in books if book.author == author]
        if not own:
            found = ", ".join(sorted({book.author for book in books})) or "none"
            raise ValueError(
                f"no books by {author!r} in {folder} (authors there: {found}); name one of them "
                "as monitor.author, or point monitor.books_dir at AUTHOR--TITLE.txt books of "
                f"{author} and of other authors"
            )
        profile = StylometryProfile.from_books(folder, author)
        return cls(profile, build_copy_index(own, ngram_words))

    def check(
        self, step: int, texts: Sequence[str], rewards: Mapping[str, Sequence[float | None]]
    ) -> MonitorCheck:
        """Measure `texts` (one sample), with each reward's scores of the same texts."""
        started = time.perf_counter()
        scores = self.profile.measure(texts)
        copies = [
            copy_report(self.copy_index.copied_mask(self.author, text), allowance=0, penalty=0)
            for text in texts
        ]
        tokens = [words_of(text) for text in texts]
        return MonitorCheck(
            step=step,
            completions=len(texts),
            mean_words=_mean([len(t) for t in tokens]) or 0.0,
            stylometry_closeness=_mean([s.closeness for s in scores]),
            stylometry_delta=_mean([s.delta for s in scores]),
            copied_fraction=_mean([c.copied_fraction for c in copies]) or 0.0,
            longest_copied_words=max((c.longest_copied_words for c in copies), default=0),
            distinct_1=distinct_n(tokens, 1),
            distinct_2=distinct_n(tokens, 2),
            rewards={name: _mean(values) for name, values in rewards.items()},
            seconds=time.perf_counter() - started,
        )


def distinct_n(token_lists: Sequence[Sequence[str]], n: int) -> float:
    """Unique word n-grams over all word n-grams of the texts together; 0 with none.

    >>> distinct_n([["the", "cat", "the", "cat"], ["the", "cat"]], 2)
    0.5
    """
    ngrams = [tuple(t[i : i + n]) for t in token_lists for i in range(len(t) - n + 1)]
    return len(set(ngrams)) / len(ngrams) if ngrams else 0.0


def trend_endpoints(steps: Sequence[int], values: Sequence[float]) -> tuple[float, float]:
    """The least-squares line through (step, value), at the first step and at the last.

    >>> [round(v, 3) for v in trend_endpoints([10, 20, 30], [0.40, 0.50, 0.45])]
    [0.425, 0.475]
    """
    mean_step = sum(steps) / len(steps)
    mean_value = sum(values) / len(values)
    spread = sum((s - mean_step) ** 2 for s in steps)
    slope = (
        sum((s - mean_step) * (v - mean_value) for s, v in zip(steps, values, strict=True)) / spread
        if spread
        else 0.0
    )
    return (
        mean_value + slope * (steps[0] - mean_step),
        mean_value + slope * (steps[-1] - mean_step),
    )


def find_alarms(
    history: Sequence[MonitorCheck], settings: MonitorSettings, author: str
) -> list[str]:
    """What the latest check of `history` warns of, each as a sentence naming what moved."""
    latest = history[-1]
    alarms = []
    cap = settings.max_copied_fraction
    if cap is not None and latest.copied_fraction > cap:
        alarms.append(
            f"{latest.copied_fraction:.1%} of the words repeat {author}'s books (longest run "
            f"{latest.longest_copied_words} words), over max_copied_fraction {cap:.1%}"
        )
    window = history[-settings.window_checks :]
    if len(window) < settings.window_checks:
        return alarms
    steps = [check.step for check in window]
    over = f"over steps {steps[0]}-{steps[-1]}"
    style = _series(window, lambda check: check.rewards.get(STYLE_REWARD))
    closeness = _series(window, lambda check: check.stylometry_closeness)
    if style is not None and closeness is not None:
        style_start, style_end = trend_endpoints(steps, style)
        close_start, close_end = trend_endpoints(steps, closeness)
        rise, fall = style_end - style_start, close_start - close_end
        if rise > settings.style_rise and fall > settings.stylometry_drop:
            alarms.append(
                f"style reward rose {rise:.3f} ({style_start:.3f} -> {style_end:.3f}) while "
                f"stylometry closeness fell {fall:.3f} ({close_start:.3f} -> {close_end:.3f}) "
                f"{over}: the policy may be pleasing the style scorer, not writing more like "
                f"{author}"
            )
    copied_start, copied_end = trend_endpoints(steps, [check.copied_fraction for check in window])
    if copied_end - copied_start > settings.copy_rise:
        alarms.append(
            f"copied fraction rose {copied_end - copied_start:.3f} ({copied_start:.3f} -> "
            f"{copied_end:.3f}) {over}: the policy may be quoting {author}'s books"
        )
    return alarms


def _series(
    checks: Sequence[MonitorCheck], value: Callable[[MonitorCheck], float | None]
) -> list[float] | None:
    """One value per check, or None when a check lacks it (no trend to fit then)."""
    values = [value(check) for check in checks]
    present = [v for v in values if v is not None and not math.isnan(v)]
    return present if len(present) == len(values) else None


def _mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values that are there (not None, not NaN); None if none is."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    return sum(present) / len(present) if present else None
