"""The phase clock behind each step's `time/*` metrics, and the table made from them."""

from __future__ import annotations

import threading
import time

import pytest

from trainer.grpo.step_profile import PhaseClock, profile_table


def test_overlapping_phases_count_their_union_and_each_part_its_own_time() -> None:
    clock = PhaseClock()

    def reward(name: str, seconds: float) -> None:
        with clock.measure(f"reward/{name}", within="rewards"):
            time.sleep(seconds)

    threads = [
        threading.Thread(target=reward, args=(name, seconds))
        for name, seconds in (("style", 0.05), ("content", 0.20))
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    with clock.measure("optimizer"):
        time.sleep(0.01)
    seconds = clock.take()

    assert seconds["reward/style"] == pytest.approx(0.05, abs=0.04)
    assert seconds["reward/content"] == pytest.approx(0.20, abs=0.04)
    # Concurrent: the union is the slowest call's time, not the sum, and no more than the wall.
    assert seconds["reward/content"] <= seconds["rewards"] <= wall
    assert seconds["rewards"] < seconds["reward/style"] + seconds["reward/content"]
    assert seconds["optimizer"] >= 0.01
    assert clock.take() == {}, "take starts the clock again"


def test_disjoint_spans_add_up() -> None:
    clock = PhaseClock()
    for _ in range(2):
        with clock.measure("reward/style", within="rewards"):
            time.sleep(0.02)
        time.sleep(0.05)
    seconds = clock.take()
    assert seconds["rewards"] == pytest.approx(seconds["reward/style"], rel=1e-9)


def test_the_table_gives_medians_and_shares_of_the_step() -> None:
    rows = [
        {"step": 2, "time/step": 10.0, "time/rewards": 4.0, "time/policy": 6.0},
        {"step": 3, "time/step": 20.0, "time/rewards": 5.0, "time/policy": 15.0},
        {"step": 4, "time/step": 30.0, "time/rewards": 6.0, "time/policy": 24.0},
        {"step": 4, "loss": 0.1},
    ]
    table = profile_table(rows).splitlines()
    assert table[0].startswith("| phase (median of 3 steps)")
    assert table[2:] == [
        "| step | 20.00 | 100% |",
        "| rewards | 5.00 | 25% |",
        "| policy | 15.00 | 75% |",
    ]
    with pytest.raises(ValueError, match="no step"):
        profile_table([{"step": 1, "loss": 0.1}])
