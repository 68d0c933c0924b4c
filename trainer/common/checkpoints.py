"""Find the checkpoint to resume from: the newest one that was written to the end."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# The Trainer writes the state file last, after the weights, optimizer and RNG states: a folder
# without a readable one was cut off mid-save and cannot be resumed from.
TRAINER_STATE = "trainer_state.json"


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The highest-numbered `checkpoint-N` under `folder` whose trainer state is whole, or None.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for step, state in ((1, '{"global_step": 1}'), (2, '{"global_st')):
    ...     (root / f"checkpoint-{step}").mkdir()
    ...     _ = (root / f"checkpoint-{step}" / TRAINER_STATE).write_text(state)
    >>> (root / "checkpoint-3").mkdir()
    >>> last_complete_checkpoint(root).name
    'checkpoint-1'
    """
    if not folder.is_dir():
        return None
    numbered = [
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if path.is_dir() and (match := _CHECKPOINT.match(path.name))
    ]
    for _, path in sorted(numbered, reverse=True):
        try:
            json.loads((path / TRAINER_STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("skipping checkpoint %s, cut off while being saved: %s", path, exc)
            continue
        return path
    return None


def checkpoint_step(checkpoint: Path | None) -> int:
    """The global step a checkpoint was saved at; 0 for a run that starts from scratch.

    >>> checkpoint_step(Path("run/checkpoints/checkpoint-12")), checkpoint_step(None)
    (12, 0)
    """
    return 0 if checkpoint is None else int(checkpoint.name.rsplit("-", 1)[-1])
