"""The judge's expected score from its probabilities over the score tokens (G-Eval style)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreDistribution:
    """Probabilities over the rubric's score tokens, renormalised, and what they imply."""

    probabilities: dict[str, float]
    expected: float  # in [0, 1]: the expected score rescaled from the rubric's range
    argmax: str
    mass: float  # how much probability the model put on score tokens at all, before renormalising


def expected_score(logprobs: dict[str, float], scores: list[str]) -> ScoreDistribution:
    """Expected rubric score from log-probabilities of (some of) the score tokens.

    Tokens missing from `logprobs` (e.g. outside a server's top-k) count as probability zero.

    >>> d = expected_score({"1": math.log(0.1), "4": math.log(0.3)}, ["1", "2", "3", "4"])
    >>> round(d.expected, 3), d.argmax, round(d.mass, 2)
    (0.75, '4', 0.4)
    """
    raw = {s: math.exp(logprobs[s]) if s in logprobs else 0.0 for s in scores}
    mass = sum(raw.values())
    if mass <= 0:
        raise ValueError("the judge gave no probability to any score token")
    probabilities = {s: p / mass for s, p in raw.items()}
    values = [float(s) for s in scores]
    low, high = min(values), max(values)
    mean = sum(probabilities[s] * v for s, v in zip(scores, values, strict=True))
    return ScoreDistribution(
        probabilities=probabilities,
        expected=(mean - low) / (high - low),
        argmax=max(probabilities, key=probabilities.__getitem__),
        mass=mass,
    )
