"""`stylegrpo data build-sft`: stories to SFT records in TRL's conversational prompt-completion
format, split into train and test by prompt.

    stylegrpo data build-sft --source stories.jsonl --out data/sft-twain
    stylegrpo data build-sft --source data/chunks --chunks-author mark-twain --out data/sft-books

Sources: a JSONL file of `{prompt, story}` or `{prompt, completion}` objects (field names are
options), a `datasets` folder, a Hub dataset id, or a `stylegrpo data chunk` folder (the author's
own prose, see trainer/data/chunk_prompts.py). Every story ends with the line `THE END.`, the
marker the completeness reward and the judge look for: added when missing, never doubled, and
anything written after it dropped. With `--tokenizer`, a `text` column holds each record
rendered with that model's chat template, for tools that train on plain text.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from shared.files import replaced_folder
from trainer.common.policy_model import resolve_policy_model
from trainer.data.chunk_prompts import chunk_pairs
from trainer.data.story_sources import StorySource, StorySourceError, read_source

END_MARKER = "THE END."
_MARKER_LINE = re.compile(r"^[ \t*_#>]*the end[ \t]*[.!]?[ \t*_]*$", re.IGNORECASE | re.MULTILINE)
_INLINE_MARKER = re.compile(r"\s+THE END[.!]?\s*\Z")  # upper case only: "to the end." is prose
STORY_FIELDS = ("story", "completion")
DEFAULT_CACHE = Path.home() / ".cache" / "stylegrpo"


def end_story(text: str) -> tuple[str, str]:
    """The story with `THE END.` as its own last line, and what that took.

    >>> end_story("He ran home.")
    ('He ran home.\\n\\nTHE END.', 'added')
    >>> end_story("He ran home.\\nTHE END.\\n")
    ('He ran home.\\n\\nTHE END.', 'kept')
    >>> end_story("He ran home. THE END."), end_story("He ran home.\\n\\n**The End**")[1]
    (('He ran home.\\n\\nTHE END.', 'normalised'), 'normalised')
    >>> end_story("He ran home.\\nTHE END.\\nHope you liked it!\\nTHE END.")
    ('He ran home.\\n\\nTHE END.', 'trimmed')
    >>> end_story("He was loyal to the end.")[1]
    'added'
    """
    marker = _MARKER_LINE.search(text)
    if marker is not None:
        body, after = text[: marker.start()], text[marker.end() :]
        if after.strip():
            change = "trimmed"
        else:
            change = "kept" if marker.group().strip() == END_MARKER else "normalised"
    elif (inline := _INLINE_MARKER.search(text)) is not None:
        body, change = text[: inline.start()], "normalised"
    else:
        body, change = text, "added"
    return f"{body.rstrip()}\n\n{END_MARKER}", change


def build_sft_records(
    source: str,
    out_dir: Path,
    *,
    tokenizer: str | None = None,
    test_fraction: float = 0.1,
    prompt_field: str = "prompt",
    story_field: str | None = None,
    chunks_author: str | None = None,
    author_name: str = "Mark Twain",
    opening_words: int = 60,
    seed: int = 0,
    cache_dir: Path = DEFAULT_CACHE,
) -> dict[str, Any]:
    """Write `train`/`test` splits (a `load_from_disk` folder, JSONL files, summary.json)."""
    if not 0 <= test_fraction < 1:
        raise StorySourceError(f"test fraction must be in [0, 1), got {test_fraction}")
    read = read_source(source)
    if read.kind == "chunks":
        drafts = _chunk_drafts(read, chunks_author, author_name, opening_words)
    elif chunks_author is not None:
        raise StorySourceError(f"--chunks-author needs a `data chunk` folder; {source} is not one")
    else:
        drafts = _story_drafts(read, prompt_field, story_field)
    records, changes = [], Counter[str]()
    for prompt, story, group in tqdm(drafts, desc="building SFT records", unit="record"):
        ended, change = end_story(story)
        if not ended.removesuffix(END_MARKER).strip():
            changes["skipped_empty"] += 1
            continue
        changes[f"end_marker_{change}"] += 1
        completion = [{"role": "assistant", "content": ended}]
        records.append({"prompt": prompt, "completion": completion, "group": group})
    if not records:
        raise StorySourceError(f"no usable stories in {source}: every story was empty")
    if tokenizer is not None:
        _add_chat_text(records, tokenizer, cache_dir)
    test_groups = split_groups([r["group"] for r in records], test_fraction, seed)
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "test": []}
    for record in records:
        group = record.pop("group")
        splits["test" if group in test_groups else "train"].append(record)
    summary = {
        "source": source,
        "kind": read.kind,
        "train": len(splits["train"]),
        "test": len(splits["test"]),
        "test_groups": len(test_groups),
        "test_fraction": test_fraction,
        "tokenizer": tokenizer,
        **dict(sorted(changes.items())),
    }
    _write(out_dir, splits, summary)
    return summary


def split_groups(groups: list[str], test_fraction: float, seed: int) -> set[str]:
    """The groups for the test split: about `test_fraction` of the records, whole groups only,
    at least one group when the fraction is above 0, and never every group.

    >>> sorted(split_groups(["a", "a", "b", "c", "c", "d"], 0.3, seed=0))
    ['c']
    >>> split_groups(["a", "a"], 0.5, seed=0), split_groups(["a", "b"], 0.0, seed=0)
    (set(), set())
    """
    sizes = Counter(groups)
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    chosen: set[str] = set()
    held = 0
    for group in order[: len(order) - 1]:
        if held >= test_fraction * len(groups):
            break
        chosen.add(group)
        held += sizes[group]
    return chosen


def _story_drafts(
    read: StorySource, prompt_field: str, story_field: str | None
) -> list[tuple[list[dict[str, str]], str, str]]:
    """(prompt messages, story, split group) per row; rows sharing a prompt share a group."""
    field = story_field or next((f for f in STORY_FIELDS if f in read.columns), None)
    if field is None or field not in read.columns or prompt_field not in read.columns:
        wanted = f"`{prompt_field}` and `{story_field or ' or '.join(STORY_FIELDS)}`"
        raise StorySourceError(
            f"the source has fields {read.columns}; SFT records need {wanted} "
            "(name others with --prompt-field / --story-field)"
        )
    drafts = []
    for index, row in enumerate(read.rows):
        prompt = _prompt_messages(row.get(prompt_field), index)
        drafts.append((prompt, _story_text(row.get(field), index), json.dumps(prompt)))
    return drafts


def _chunk_drafts(
    read: StorySource, author: str | None, author_name: str, opening_words: int
) -> list[tuple[list[dict[str, str]], str, str]]:
    authors = sorted({str(row["author"]) for row in read.rows})
    if author is None or author not in authors:
        raise StorySourceError(
            f"the source is a `data chunk` folder: name the author with --chunks-author "
            f"(got {author!r}; authors there: {authors})"
        )
    pairs = chunk_pairs(read.rows, author, author_name, opening_words)
    # Neighbouring chunks of one book share characters and scenes: with two books or more, a
    # whole book goes to one side, so the test loss is measured on prose never trained on.
    by_book = len({pair.title for pair in pairs}) > 1
    return [
        ([{"role": "user", "content": p.prompt}], p.continuation, p.title if by_book else p.prompt)
        for p in pairs
    ]


def _prompt_messages(value: Any, index: int) -> list[dict[str, str]]:
    if isinstance(value, str) and value.strip():
        return [{"role": "user", "content": value.strip()}]
    if isinstance(value, list) and value and all(_is_message(m) for m in value):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    raise StorySourceError(
        f"row {index}: the prompt must be text or a list of {{role, content}} messages, "
        f"got {value!r:.80}"
    )


def _story_text(value: Any, index: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and _is_message(value[0]):
        return str(value[0]["content"])
    raise StorySourceError(
        f"row {index}: the story must be text or one assistant message, got {value!r:.80}"
    )


def _is_message(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("role"), str)
        and isinstance(value.get("content"), str)
    )


def _add_chat_text(records: list[dict[str, Any]], model: str, cache_dir: Path) -> None:
    """A `text` column: prompt and completion rendered with `model`'s chat template."""
    from transformers import AutoTokenizer

    chat = AutoTokenizer.from_pretrained(resolve_policy_model(model, cache_dir))
    if not chat.chat_template:
        raise StorySourceError(
            f"the tokenizer of {model} has no chat template: give an instruct model's tokenizer, "
            "or leave --tokenizer out (the trainer applies the model's template itself)"
        )
    for record in tqdm(records, desc="rendering chat text", unit="record"):
        record["text"] = chat.apply_chat_template(
            record["prompt"] + record["completion"], tokenize=False
        )


def _write(out_dir: Path, splits: dict[str, list[dict[str, Any]]], summary: dict[str, Any]) -> None:
    from datasets import Dataset, DatasetDict

    train = Dataset.from_list(splits["train"])
    test = Dataset.from_dict(
        {name: [row[name] for row in splits["test"]] for name in train.column_names},
        features=train.features,
    )
    with replaced_folder(out_dir) as staging:
        # One shard at least: `datasets` writes none for an empty split, then cannot load it.
        shards = {name: 1 for name, rows in splits.items() if not rows}
        DatasetDict({"train": train, "test": test}).save_to_disk(str(staging), num_shards=shards)
        for name, rows in splits.items():
            lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            (staging / f"{name}.jsonl").write_text(lines, encoding="utf-8")
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
