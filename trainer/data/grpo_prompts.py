"""`stylegrpo data grpo-prompts`: plot prompts crossed with the author's reference chunks.

The original's layout: one row per (plot prompt, reference chunk) with columns `prompt` (a chat
message list, as TRL takes it) and `sample_text` (the chunk, for the style reward's reference
mode). Prompts are split into train and test by plot, so no test plot is seen in training.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from shared.files import replaced_folder
from trainer.grpo.prompts import TEMPLATE, plot_split


def build_grpo_prompts(
    chunks_dir: Path,
    out_dir: Path,
    *,
    author: str,
    author_name: str,
    story_words: int = 1500,
    test_plots: int = 2,
    chunks_per_plot: int = 8,
    seed: int = 0,
) -> dict[str, int]:
    """Write `train`/`test` splits (a `load_from_disk` folder plus JSONL files); return sizes."""
    from datasets import Dataset, DatasetDict, load_from_disk

    chunks = load_from_disk(str(chunks_dir))
    texts = [row["text"] for row in chunks if row["author"] == author]
    if not texts:
        authors = sorted(set(chunks["author"]))
        raise ValueError(f"no chunks by {author!r} in {chunks_dir}; authors there: {authors}")
    plots = plot_split(test_plots, seed)
    rng = random.Random(seed)
    splits: dict[str, list[dict[str, Any]]] = {"test": [], "train": []}
    for split, plot in [(name, plot) for name in ("test", "train") for plot in plots[name]]:
        text = TEMPLATE.format(plot=plot, author=author_name, words=story_words)
        for sample in rng.sample(texts, min(chunks_per_plot, len(texts))):
            splits[split].append(
                {"prompt": [{"role": "user", "content": text}], "sample_text": sample, "plot": plot}
            )
    with replaced_folder(out_dir) as staging:
        datasets = DatasetDict({k: Dataset.from_list(v) for k, v in splits.items()})
        datasets.save_to_disk(str(staging))
        for name, rows in splits.items():
            lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            (staging / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    return {name: len(rows) for name, rows in splits.items()}
