"""The two length formulas of the original work, giving a text's base score in [0, 1].

`v1`: 0 under a minimum word count, else sqrt(min(1, words / target)), halved unless the
text ends with terminal punctuation.

>>> v1_base(700, ends_with_stop=True, min_words=500, target_words=1400)
0.7071067811865476
>>> v1_base(2000, ends_with_stop=False, min_words=500, target_words=1400)
0.5

`band`: the ending's credit (1 for the end-marker line, 0 without an ending, and a configured
share for a loose ending such as "The End") times: words / low below the band, 1.0
inside it, and above it an exponential decay with a half-life in words. The original only says
"decaying"; an exponential keeps every overshoot ordered (a shorter overshoot always scores
higher) and never reaches 0, so overlong samples in a GRPO group still differ from each other
and from a missing ending, which a linear ramp to 0 would flatten into one tie. A half-life
of 400 words (the band's width) makes overshoot cost more per word than falling short
(ln 2 / 400 against 1 / 1200 at the band's edges): padding is the cheaper way to reach length.

>>> [band_base(w, ending_credit=1.0, low=1200, high=1600, half_life=400) for w in (600, 1400, 2000)]
[0.5, 1.0, 0.5]
>>> [band_base(1400, ending_credit=c, low=1200, high=1600, half_life=400) for c in (0.0, 0.25)]
[0.0, 0.25]
"""

from __future__ import annotations

import math


def v1_base(words: int, *, ends_with_stop: bool, min_words: int, target_words: int) -> float:
    """The original's first formula: minimum, square root of words/target, halving."""
    if words < min_words:
        return 0.0
    base = math.sqrt(min(1.0, words / target_words))
    return base if ends_with_stop else base / 2


def band_base(words: int, *, ending_credit: float, low: int, high: int, half_life: float) -> float:
    """The original's later formula: linear up to the band, 1 inside, halving per half-life;
    times the ending's credit."""
    if words < low:
        return ending_credit * words / low
    if words <= high:
        return ending_credit
    return ending_credit * float(0.5 ** ((words - high) / half_life))
