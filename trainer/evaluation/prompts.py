"""The prompts to evaluate on: a `data build-grpo-prompts` folder or a JSONL file of rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.json_lines import json_lines
from trainer.grpo.rewards import prompt_text


@dataclass(frozen=True)
class PromptRow:
    """One test prompt as chat messages, with the row's other columns (e.g. `sample_text`)."""

    messages: list[dict[str, str]]
    columns: dict[str, Any]

    @property
    def text(self) -> str:
        """The prompt as the reward services read it: its last user message."""
        return prompt_text(self.messages)


def load_prompt_rows(path: Path, split: str = "test") -> list[PromptRow]:
    """Rows of `path`: a JSONL file, or a folder holding `SPLIT.jsonl`; `prompt` is required.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "test.jsonl").write_text('{"prompt": "Tell a tale.", "sample_text": "x"}\\n')
    >>> rows = load_prompt_rows(folder)
    >>> rows[0].messages, rows[0].columns["sample_text"]
    ([{'role': 'user', 'content': 'Tell a tale.'}], 'x')
    """
    file = path / f"{split}.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(
            f"no prompts at {file}: pass a JSONL file of rows with a `prompt` column, or a folder "
            f"written by `stylegrpo data build-grpo-prompts` (it holds {split}.jsonl)"
        )
    rows = []
    for number, record in json_lines(file):
        prompt = record.pop("prompt", None) if isinstance(record, dict) else None
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        if not isinstance(prompt, list) or not prompt:
            raise ValueError(
                f"{file}:{number}: each row needs a `prompt`: a string or a list of chat messages"
            )
        rows.append(PromptRow(messages=prompt, columns=record))
    if not rows:
        raise ValueError(f"{file} holds no prompt rows")
    return rows


def prompts_fingerprint(rows: list[PromptRow]) -> str:
    """A hash of the prompts in order: completions saved for other prompts must not be reused."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row.messages, sort_keys=True).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
