"""Sample weights for `author vs everyone else`, with one contrast class at a weight of its own.

Class-balanced fits give the author's windows half the weight and every other window an equal
share of the other half. The policy's own stories are a contrast that matters more than their
count: a few hundred of them beside thousands of book windows would be a rounding error. They
get `share` of the contrast half; everything else not by the author shares the rest.

>>> import numpy as np
>>> labels = np.array(["a", "a", "b", "b", "b", "p"])
>>> contrast_weights(labels, "a").round(2).tolist()
[1.5, 1.5, 0.75, 0.75, 0.75, 0.75]
>>> contrast_weights(labels, "a", weighted_label="p", share=0.5).round(2).tolist()
[1.5, 1.5, 0.5, 0.5, 0.5, 1.5]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def contrast_weights(
    labels: NDArray[np.str_],
    author: str,
    *,
    weighted_label: str | None = None,
    share: float = 0.0,
) -> NDArray[np.float64]:
    """Weights averaging 1: the author's rows half the total, `weighted_label`'s rows `share` of
    the other half (when there are any), the remaining rows the rest, equally within each."""
    own = labels == author
    special = (labels == weighted_label) if weighted_label is not None else np.zeros_like(own)
    rest = ~own & ~special
    weights = np.zeros(len(labels), dtype=np.float64)
    special_share = share if special.any() and rest.any() else float(special.any())
    for mask, total in (
        (own, 0.5),
        (special, 0.5 * special_share),
        (rest, 0.5 * (1 - special_share)),
    ):
        if mask.any():
            weights[mask] = total / mask.sum()
    scaled: NDArray[np.float64] = weights * len(labels) / weights.sum()
    return scaled
