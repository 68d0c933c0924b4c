"""A model's completions file: one JSON line per completion, appended as each is generated, so
a crash loses nothing and a rerun generates only what is missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.files import replaced_file
from trainer.evaluation.generation import Completion, Generator, Job
from trainer.evaluation.prompts import PromptRow
from trainer.grpo.completions_log import append_line

COMPLETIONS_FILE = "completions.jsonl"
GENERATION_FILE = "generation.json"


class CompletionsStore:
    """A completions file and, beside it, what generated them (`generation.json` in a model's
    folder by default)."""

    def __init__(
        self,
        path: Path,
        identity: dict[str, Any],
        *,
        identity_path: Path | None = None,
        columns: tuple[str, ...] = (),
    ) -> None:
        """Open `path`; refuse completions that another model, sampling or prompt set made.
        Each record also carries the prompt row's `columns` (e.g. `plot`) where it has them."""
        self.path = path
        self.columns = columns
        path.parent.mkdir(parents=True, exist_ok=True)
        saved_file = identity_path or path.parent / GENERATION_FILE
        if saved_file.is_file() and self.path.is_file():
            saved = json.loads(saved_file.read_text(encoding="utf-8"))
            changed = sorted(
                k for k in identity.keys() | saved.keys() if identity.get(k) != saved.get(k)
            )
            if changed:
                shown = ", ".join(f"{k}: {saved.get(k)!r} -> {identity.get(k)!r}" for k in changed)
                raise ValueError(
                    f"{self.path} holds completions generated differently ({shown}); use another "
                    "--out or model name, or delete it to start again"
                )
        else:
            saved_file.write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")

    def load(self) -> dict[tuple[int, int], dict[str, Any]]:
        """Every saved completion by (row, sample); a torn last line is dropped from the file."""
        if not self.path.is_file():
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        whole = [line for line in lines if line.endswith("\n")]
        if len(whole) < len(lines):
            with replaced_file(self.path) as handle:
                handle.write("".join(whole).encode())
        records = (json.loads(line) for line in whole if line.strip())
        return {(r["row"], r["sample"]): r for r in records}

    def complete(
        self, generator: Generator, rows: list[PromptRow], num_samples: int
    ) -> list[dict[str, Any]]:
        """Generate what is missing of `num_samples` per row; return all, by row then sample."""
        from tqdm import tqdm

        done = self.load()
        jobs = [
            Job(row=i, sample=s, messages=row.messages)
            for i, row in enumerate(rows)
            for s in range(num_samples)
            if (i, s) not in done
        ]
        if jobs:
            with (
                self.path.open("a", encoding="utf-8") as handle,
                tqdm(
                    total=len(jobs), desc=f"generating ({self.path.parent.name})", unit="story"
                ) as bar,
            ):

                def save(completion: Completion) -> None:
                    record = {
                        "row": completion.row,
                        "sample": completion.sample,
                        "prompt": rows[completion.row].text,
                        "completion": completion.text,
                        "tokens": completion.tokens,
                        "truncated": completion.truncated,
                        **{
                            column: rows[completion.row].columns[column]
                            for column in self.columns
                            if column in rows[completion.row].columns
                        },
                    }
                    append_line(handle, json.dumps(record, ensure_ascii=False) + "\n")
                    done[completion.row, completion.sample] = record
                    bar.update()

                generator.generate(jobs, save)
        missing = [(job.row, job.sample) for job in jobs if (job.row, job.sample) not in done]
        if missing:
            raise RuntimeError(
                f"the generator returned no completion for (row, sample) {missing[:5]}"
            )
        return [done[i, s] for i in range(len(rows)) for s in range(num_samples)]
