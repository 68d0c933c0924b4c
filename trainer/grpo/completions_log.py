"""The completions log: one JSON line per completion with every reward, flushed each step."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from shared.files import replaced_file

COMPLETIONS_LOG = "completions.jsonl"
# Called with each batch's records as they are written (the reward-hacking monitor samples them).
BatchListener = Callable[[list[dict[str, Any]]], None]


def drop_lines_after(path: Path, step: int) -> None:
    """Keep the JSON lines of steps up to `step`, and no torn last line (atomic rewrite).

    Resuming from a checkpoint redoes the steps after it, so their old lines must go.
    """
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.endswith("\n") and _step_of(line) <= step]
    with replaced_file(path) as handle:
        handle.write("".join(kept).encode())


def _step_of(line: str) -> float:
    """The step of a log line; infinity for one that is not a whole JSON record of a step.

    >>> _step_of('{"step": 3}\\n'), _step_of('{"step": 3, "promp')
    (3, inf)
    """
    try:
        record = json.loads(line)
    except ValueError:
        return math.inf
    step = record.get("step") if isinstance(record, dict) else None
    return step if isinstance(step, int) else math.inf


def append_line(handle: TextIO, text: str) -> None:
    """Append, flush and fsync: a crash loses at most what was being written."""
    handle.write(text)
    handle.flush()
    os.fsync(handle.fileno())


def summarize_details(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """A reward's details cut to their scalar fields, and the keys of flat mappings.

    >>> summarize_details({"score": 0.5, "windows": [{}], "checks_failed": {"repetition": "x"}})
    {'score': 0.5, 'checks_failed': ['repetition']}
    """
    if detail is None:
        return None
    summary: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            summary[key] = value
        elif isinstance(value, dict) and key.endswith("failed"):
            summary[key] = sorted(value)
    return summary


class CompletionsRecorder:
    """Collects each reward of a batch; once all have reported, appends the batch's lines.

    The reward functions of one batch all receive the same `completions` list, which is how the
    recorder matches them; they run on one event loop, so no lock is needed.
    """

    def __init__(self, path: Path, reward_names: list[str]) -> None:
        self.path = path
        self.reward_names = list(reward_names)
        self._pending: dict[int, dict[str, Any]] = {}
        self._file: TextIO | None = None
        self.listeners: list[BatchListener] = []

    def record(
        self,
        name: str,
        prompts: list[Any],
        completions: list[Any],
        scores: list[float | None],
        details: list[dict[str, Any]] | None,
        kwargs: dict[str, Any],
    ) -> None:
        """Keep one reward's scores for a batch; write the batch when it is complete."""
        state = kwargs.get("trainer_state")
        batch = self._pending.setdefault(
            id(completions),
            {
                # Rewards are computed before the optimizer step they train: number it as such,
                # like the metrics log and the checkpoints do.
                "step": int(getattr(state, "global_step", 0)) + 1,
                "prompts": prompts,
                "completions": completions,
                "rewards": {},
                "details": {},
            },
        )
        batch["rewards"][name] = scores
        batch["details"][name] = details
        if set(batch["rewards"]) >= set(self.reward_names):
            self._write(self._pending.pop(id(completions)))

    def close(self) -> None:
        """Close the log file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, batch: dict[str, Any]) -> None:
        records = []
        for i, (prompt, completion) in enumerate(
            zip(batch["prompts"], batch["completions"], strict=True)
        ):
            record = {
                "step": batch["step"],
                "prompt": prompt,
                "completion": completion,
                "rewards": {name: batch["rewards"][name][i] for name in self.reward_names},
                "details": {
                    name: summarize_details(details[i]) if details else None
                    for name, details in batch["details"].items()
                },
            }
            records.append(record)
        lines = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records]
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        append_line(self._file, "".join(lines))
        for listener in self.listeners:
            listener(records)
