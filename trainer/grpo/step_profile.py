"""Where a GRPO step's time goes, logged with every step's metrics as `time/*` seconds.

The reward functions and the rollout server's client time themselves on a shared `PhaseClock`;
`StepProfileCallback` times the step and the optimizer from the Trainer's own events and adds
the lot to each step's logs (and so to `metrics.jsonl`):

  time/step                the step, from its start to its end (without logging and saving)
  time/generation          stories from the rollout server, weights hand-over included
  time/generation/weights  writing the policy's weights and the server loading them
  time/rewards             all rewards, called concurrently (wall time)
  time/reward/NAME         each reward's call
  time/optimizer           the optimizer step
  time/policy              the rest of the step: old and reference log-probs, loss, backward
  time/policy/loss         of which the loss's forward passes (`time_policy_passes`)
  time/policy/backward     of which the backward passes
  time/between_steps       logging, checkpoints and callbacks before this step
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transformers import TrainerCallback

PREFIX = "time/"
SPANNED = ("rewards",)  # phases whose parts overlap: counted as the union of their spans


class PhaseClock:
    """Seconds spent in named phases since the last `take`, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = defaultdict(float)
        self._spans: dict[str, list[tuple[float, float]]] = defaultdict(list)

    @contextmanager
    def measure(self, name: str, *, within: str | None = None) -> Iterator[None]:
        """Time the block as `name`; `within` also counts its span towards an overlapping phase."""
        started = time.perf_counter()
        try:
            yield
        finally:
            ended = time.perf_counter()
            with self._lock:
                self._seconds[name] += ended - started
                if within is not None:
                    self._spans[within].append((started, ended))

    def add(self, name: str, seconds: float) -> None:
        """Count `seconds` towards `name`."""
        with self._lock:
            self._seconds[name] += seconds

    def take(self) -> dict[str, float]:
        """The seconds of each phase since the last call; the clock starts again from zero."""
        with self._lock:
            seconds = dict(self._seconds)
            for phase, spans in self._spans.items():
                seconds[phase] = _union_length(spans)
            self._seconds.clear()
            self._spans.clear()
        return seconds


class StepProfileCallback(TrainerCallback):
    """Adds each step's `time/*` seconds to the logs written at that step."""

    def __init__(self, clock: PhaseClock) -> None:
        self.clock = clock
        self._step_started: float | None = None
        self._step_ended: float | None = None
        self._optimizer_started: float | None = None
        self._pending: dict[str, float] = {}

    def on_step_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """Start the step's clock; what ran since the last step was logging and saving."""
        now = time.perf_counter()
        if self._step_ended is not None:
            self.clock.add("between_steps", now - self._step_ended)
        self._step_started = now

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """The optimizer step starts."""
        self._optimizer_started = time.perf_counter()

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """The optimizer step ended."""
        if self._optimizer_started is not None:
            self.clock.add("optimizer", time.perf_counter() - self._optimizer_started)
            self._optimizer_started = None

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """The step's phases, with what no phase claimed counted as the policy's own work."""
        now = time.perf_counter()
        if self._step_started is None:
            return
        phases = self.clock.take()
        step = now - self._step_started
        claimed = sum(phases.get(name, 0.0) for name in ("generation", "rewards", "optimizer"))
        self._pending = {
            f"{PREFIX}step": step,
            **{f"{PREFIX}{name}": seconds for name, seconds in sorted(phases.items())},
            f"{PREFIX}policy": max(0.0, step - claimed),
        }
        self._step_ended = now

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
    ) -> None:
        """Add the last step's seconds to the logs being written."""
        if logs is not None and self._pending:
            logs.update(self._pending)
            self._pending = {}


def time_policy_passes(trainer: Any, clock: PhaseClock) -> None:
    """Time `trainer`'s loss forward passes and backward passes on `clock`, as `policy/loss`
    and `policy/backward`: the two methods the Trainer calls for them, wrapped on this instance."""
    compute_loss, backward = trainer.compute_loss, trainer.accelerator.backward

    def timed_compute_loss(*args: Any, **kwargs: Any) -> Any:
        with clock.measure("policy/loss"):
            return compute_loss(*args, **kwargs)

    def timed_backward(*args: Any, **kwargs: Any) -> Any:
        with clock.measure("policy/backward"):
            return backward(*args, **kwargs)

    trainer.compute_loss = timed_compute_loss
    trainer.accelerator.backward = timed_backward


def profile_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of each phase's median seconds per step and its share of the step."""
    timed = [row for row in rows if f"{PREFIX}step" in row]
    if not timed:
        raise ValueError("no step in these metrics has time/* entries")
    names = sorted({key for row in timed for key in row if key.startswith(PREFIX)}, key=_order)
    step = statistics.median(row[f"{PREFIX}step"] for row in timed)
    lines = [
        f"| phase (median of {len(timed)} steps) | seconds per step | share of the step |",
        "|---|---|---|",
    ]
    for name in names:
        seconds = statistics.median(row.get(name, 0.0) for row in timed)
        share = "" if name == f"{PREFIX}between_steps" else f"{seconds / step:.0%}"
        lines.append(f"| {name.removeprefix(PREFIX)} | {seconds:.2f} | {share} |")
    return "\n".join(lines)


def _order(name: str) -> tuple[int, str]:
    ranks = ["step", "generation", "rewards", "reward/", "policy", "optimizer", "between"]
    phase = name.removeprefix(PREFIX)
    rank = next((i for i, r in enumerate(ranks) if phase.startswith(r)), len(ranks))
    return rank, phase


def _union_length(spans: list[tuple[float, float]]) -> float:
    """The time covered by overlapping spans, each instant counted once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total
