"""Group windows into encoder batches bounded by padded tokens, longest first.

A batch is padded to its longest window, so its cost is `len(batch) x longest`. Sorting windows
by length puts similar lengths together (little padding) and a token budget keeps every forward
pass about the same size whatever the window lengths.
"""

from __future__ import annotations

from collections.abc import Sequence


def plan_batches(lengths: Sequence[int], *, max_tokens: int, max_size: int) -> list[list[int]]:
    """Indices of `lengths` in batches, longest first; each batch's padded tokens fit
    `max_tokens` (a single window longer than the budget gets a batch of its own).

    >>> plan_batches([3, 10, 4, 9], max_tokens=20, max_size=8)
    [[1, 3], [2, 0]]
    """
    if max_tokens < 1 or max_size < 1:
        raise ValueError("max_tokens and max_size must be at least 1")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for index in order:
        # The batch's first window is its longest, so it sets the padded length.
        if batches and len(batches[-1]) < max_size:
            longest = lengths[batches[-1][0]]
            if longest * (len(batches[-1]) + 1) <= max_tokens:
                batches[-1].append(index)
                continue
        batches.append([index])
    return batches


def count_batches(count: int, *, size: int) -> list[list[int]]:
    """Indices in arrival order, `size` at a time: batching by count alone.

    >>> count_batches(5, size=2)
    [[0, 1], [2, 3], [4]]
    """
    return [list(range(start, min(start + size, count))) for start in range(0, count, size)]


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of the encoder's token slots that are padding when `batches` are padded.

    >>> padding_fraction([2, 4], [[0, 1]])
    0.25
    """
    slots = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches if batch)
    return 0.0 if slots == 0 else 1.0 - sum(lengths) / slots
