"""Every metric TRL logs (rewards, KL, lengths...), one JSON line per logging step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from transformers import TrainerCallback

from trainer.grpo.completions_log import append_line

METRICS_LOG = "metrics.jsonl"


class MetricsLogCallback(TrainerCallback):
    """Appends `{"step": ..., **logs}` to the run's metrics log on the main process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
    ) -> None:
        """Write one line per logging step."""
        if not logs or not state.is_world_process_zero:
            return
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        append_line(self._file, json.dumps({"step": state.global_step, **logs}) + "\n")

    def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
