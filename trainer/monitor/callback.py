"""The reward-hacking monitor in the GRPO trainer: every few steps, measures no reward sees.

Every `monitor.every_steps` steps the monitor takes `sample_size` of the completions recorded
since its last check (the completions recorder hands it each batch), measures them with
`trainer.monitor.measures`, and appends one JSON line to `run_dir/monitor.jsonl`; the same
values go into that step's line of the metrics log as `monitor/...` keys. It warns when the
style reward climbs while stylometry closeness falls, or when copying of the author's books
rises or passes a cap; with `stop_on_alarm` it stops training and saves a checkpoint.

    monitor:                         # in a run's YAML; on once books_dir is set
      books_dir: /data/books
      every_steps: 10
      stop_on_alarm: false

Only the main process measures, on its own share of the completions. With `stop_on_alarm`,
every process learns the main one's verdict, because a distributed run must stop as one.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from transformers import TrainerCallback

from trainer.common.config_loading import ConfigError
from trainer.grpo.completions_log import CompletionsRecorder, append_line
from trainer.grpo.config import MonitorSettings, RunConfig
from trainer.grpo.rewards import completion_text
from trainer.monitor.measures import IndependentMeasures, MonitorCheck, find_alarms

log = logging.getLogger(__name__)

MONITOR_LOG = "monitor.jsonl"


def build_monitor(
    config: RunConfig, recorder: CompletionsRecorder, *, main_process: bool
) -> HackingMonitorCallback | None:
    """The monitor as `config.monitor` says (None when off), listening to `recorder`."""
    settings = config.monitor
    if not settings.active or settings.books_dir is None:
        return None
    author = settings.author_slug(config.author)
    path = config.run_dir / MONITOR_LOG
    if not main_process:
        return HackingMonitorCallback(settings, author, path, None)
    started = time.perf_counter()
    try:
        measures = IndependentMeasures.from_books(
            settings.books_dir, author, settings.copy_ngram_words
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"monitor: {exc}") from None
    log.info(
        "reward-hacking monitor: %s's stylometry profile (rivals: %s) and copy index (%d MB) "
        "built in %.1fs; a check every %d steps of %d completions",
        author,
        ", ".join(a for a in measures.profile.authors if a != author),
        measures.copy_index.nbytes // 2**20,
        time.perf_counter() - started,
        settings.every_steps,
        settings.sample_size,
    )
    monitor = HackingMonitorCallback(settings, author, path, measures)
    recorder.listeners.append(monitor.observe)
    return monitor


class HackingMonitorCallback(TrainerCallback):
    """Checks recent completions every `every_steps` steps; logs, warns, and maybe stops.

    `measures` is None on the processes other than the main one: they only learn whether to stop.
    """

    def __init__(
        self,
        settings: MonitorSettings,
        author: str,
        path: Path,
        measures: IndependentMeasures | None,
    ) -> None:
        self.settings = settings
        self.author = author
        self.path = path
        self.measures = measures
        # The reward functions, and so `observe`, run on TRL's event-loop thread.
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        # A resumed run's earlier checks (those after its checkpoint are gone) continue the trend.
        self._history = read_checks(path)[-settings.window_checks :] if measures else []
        self._unlogged: MonitorCheck | None = None
        self._file: TextIO | None = None

    def observe(self, records: list[dict[str, Any]]) -> None:
        """Keep a batch of the completions log's records until the next check."""
        with self._lock:
            self._records.extend(records)

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """At every `every_steps`-th step, check; with `stop_on_alarm`, stop on an alarm."""
        step = state.global_step
        if step % self.settings.every_steps:
            return
        check = self.check(step) if self.measures is not None else None
        if check is not None:
            control.should_log = True  # so that the metrics log has the check at its step
        alarmed = check is not None and bool(check.alarms)
        if self.settings.stop_on_alarm and _main_process_verdict(alarmed):
            log.warning(
                "stopping at step %d and saving a checkpoint: the reward-hacking monitor raised "
                "an alarm (see %s) and monitor.stop_on_alarm is true",
                step,
                self.path,
            )
            control.should_training_stop = True
            control.should_save = True

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
    ) -> None:
        """Add the check of this step to TRL's logs (the metrics log writes them after)."""
        if self._unlogged is None or logs is None or self._unlogged.step != state.global_step:
            return
        logs.update(self._unlogged.metrics())
        self._unlogged = None

    def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """Close the monitor log."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def check(self, step: int) -> MonitorCheck | None:
        """Measure a sample of the completions of the last `every_steps` steps; log it."""
        assert self.measures is not None, "only the main process measures"
        first = step - self.settings.every_steps + 1
        with self._lock:
            recent = [r for r in self._records if first <= r["step"] <= step]
            self._records = [r for r in self._records if r["step"] > step]
        if not recent:
            log.warning(
                "reward-hacking monitor: no completions recorded in steps %d-%d", first, step
            )
            return None
        # Seeded by the step, so a resumed run samples what the interrupted one would have.
        sample = random.Random(step).sample(recent, min(self.settings.sample_size, len(recent)))
        rewards = {name: [r["rewards"][name] for r in sample] for name in sample[0]["rewards"]}
        check = self.measures.check(
            step, [completion_text(r["completion"]) for r in sample], rewards
        )
        check = replace(
            check, alarms=tuple(find_alarms([*self._history, check], self.settings, self.author))
        )
        self._history = [*self._history, check][-self.settings.window_checks :]
        log.info(
            "reward-hacking monitor, step %d: style reward %s, stylometry closeness %s, copied "
            "%.3f (longest %d words), distinct-2 %.3f, %.0f words (%d completions, %.2fs)",
            step,
            _shown(check.rewards.get("style")),
            _shown(check.stylometry_closeness),
            check.copied_fraction,
            check.longest_copied_words,
            check.distinct_2,
            check.mean_words,
            check.completions,
            check.seconds,
        )
        for alarm in check.alarms:
            log.warning("reward-hacking monitor, step %d: %s", step, alarm)
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        append_line(self._file, json.dumps(check.to_record()) + "\n")
        self._unlogged = check
        return check


def read_checks(path: Path) -> list[MonitorCheck]:
    """The checks of a monitor log, oldest first; none when there is no log."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [MonitorCheck.from_record(json.loads(line)) for line in lines if line.strip()]


def _main_process_verdict(alarmed: bool) -> bool:
    """The main process's `alarmed` on every process of a distributed run; else `alarmed`."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return alarmed
    verdict = [alarmed]
    dist.broadcast_object_list(verdict, src=0)
    return bool(verdict[0])


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
