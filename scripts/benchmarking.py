"""What the benchmark scripts share: phases interleaved over rounds, so load drifts hit all."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


async def interleaved_rounds(
    phases: dict[str, Callable[[], Awaitable[None]]], *, rounds: int, items: int, digits: int = 2
) -> dict[str, list[float]]:
    """Run every phase once per round, in order; items/s of each run, printed per round."""
    rates: dict[str, list[float]] = {name: [] for name in phases}
    for round_index in range(rounds):
        for name, run in phases.items():
            started = time.perf_counter()
            await run()
            rates[name].append(items / (time.perf_counter() - started))
        summary = ", ".join(f"{name} {values[-1]:.{digits}f}" for name, values in rates.items())
        print(f"round {round_index + 1}: {summary}", flush=True)
    return rates
