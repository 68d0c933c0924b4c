"""Where SFT stories come from: a JSONL file, a `datasets` folder, or a Hugging Face Hub dataset.

A folder written by `stylegrpo data chunk` is recognised by its columns, so the caller can turn
the author's own book chunks into records (see trainer/data/chunk_prompts.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_COLUMNS = frozenset({"author", "title", "chunk_index", "text"})
_PATH_SUFFIXES = (".jsonl", ".json")


class StorySourceError(ValueError):
    """A source of stories cannot be read or lacks a field; the message says what to pass."""


@dataclass(frozen=True)
class StorySource:
    """The rows of a source, with its kind: `jsonl`, `datasets`, `chunks` or `hub`."""

    kind: str
    rows: list[dict[str, Any]]
    columns: list[str]


def read_source(source: str) -> StorySource:
    """Every row of `source`: a JSONL file, a `load_from_disk` folder, else a Hub dataset id."""
    path = Path(source).expanduser()
    if path.is_file():
        rows = _jsonl_rows(path)
        columns = sorted({key for row in rows for key in row})
        return StorySource("jsonl", rows, columns)
    if path.is_dir():
        rows, columns = _folder_rows(path)
        return StorySource("chunks" if set(columns) >= CHUNK_COLUMNS else "datasets", rows, columns)
    if source.endswith(_PATH_SUFFIXES) or source.startswith((".", "/", "~")):
        raise StorySourceError(f"{source} does not exist: give a JSONL file or a datasets folder")
    rows, columns = _hub_rows(source)
    return StorySource("hub", rows, columns)


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StorySourceError(f"{path} line {number} is not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise StorySourceError(f"{path} line {number} is not a JSON object")
            rows.append(row)
    if not rows:
        raise StorySourceError(f"{path} has no records: expected one JSON object per line")
    return rows


def _folder_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from datasets import Dataset, load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise StorySourceError(
            f"{path} is not a `datasets` folder (save_to_disk / `stylegrpo data chunk`): {exc}"
        ) from None
    return _dataset_rows(loaded if isinstance(loaded, Dataset) else list(loaded.values()))


def _hub_rows(dataset_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    from datasets import load_dataset

    try:
        loaded = load_dataset(dataset_id)
    except (OSError, ValueError) as exc:
        raise StorySourceError(
            f"{dataset_id!r} is not a local file or folder, and loading it as a Hugging Face Hub "
            f"dataset failed ({exc}). Without Hub access (HF_HUB_OFFLINE=1, no network) only "
            "datasets already in the local cache load: give a JSONL file or a `datasets` folder."
        ) from None
    return _dataset_rows(list(loaded.values()))


def _dataset_rows(loaded: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a Dataset, or of every split of a DatasetDict (the records are re-split later)."""
    parts = loaded if isinstance(loaded, list) else [loaded]
    rows = [row for part in parts for row in part.to_list()]
    columns = sorted({name for part in parts for name in part.column_names})
    return rows, columns
