"""Token-budget batching: every window once, budgets held, less padding than count batches."""

from __future__ import annotations

import random

import pytest

from services.style.encoding.token_batches import count_batches, padding_fraction, plan_batches


@pytest.mark.parametrize("seed", range(5))
def test_every_window_lands_in_one_batch_within_the_budget(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.randint(1, 256) for _ in range(rng.randint(1, 300))]
    batches = plan_batches(lengths, max_tokens=1024, max_size=8)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 8
        assert len(batch) * max(lengths[i] for i in batch) <= 1024
        assert [lengths[i] for i in batch] == sorted((lengths[i] for i in batch), reverse=True)


def test_a_window_longer_than_the_budget_gets_a_batch_of_its_own() -> None:
    assert plan_batches([600, 10, 10], max_tokens=512, max_size=8) == [[0], [1, 2]]


def test_sorting_cuts_padding_against_arrival_order_batches() -> None:
    rng = random.Random(7)
    # Texts of mixed length: full windows with a short tail each, as the service sees them.
    lengths = [n for _ in range(40) for n in [256] * rng.randint(0, 5) + [rng.randint(20, 200)]]
    by_count = padding_fraction(lengths, count_batches(len(lengths), size=8))
    by_tokens = padding_fraction(lengths, plan_batches(lengths, max_tokens=2048, max_size=8))
    assert by_tokens < by_count / 2


def test_bad_budgets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_batches([1], max_tokens=0, max_size=1)
