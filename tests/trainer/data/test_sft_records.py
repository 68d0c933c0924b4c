"""SFT records: the end marker, the split by prompt, the chat format, and every kind of source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from datasets import Dataset, load_from_disk

from trainer.data.sft_records import END_MARKER, build_sft_records
from trainer.data.story_sources import StorySourceError


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def story_rows(prompts: int, per_prompt: int) -> list[dict[str, Any]]:
    return [
        {"prompt": f"Write a story about raft number {p}.", "story": f"Story {i} of raft {p}."}
        for p in range(prompts)
        for i in range(per_prompt)
    ]


def completions(folder: Path, split: str) -> list[str]:
    return [row["completion"][0]["content"] for row in load_from_disk(str(folder))[split]]


def test_every_story_ends_with_one_end_marker_line(tmp_path: Path) -> None:
    stories = [
        "They drifted all night.",
        "They drifted all night.\n\nTHE END.",
        "They drifted all night. THE END.",
        "They drifted all night.\n\n**The End**\n",
        "They drifted all night.\nTHE END.\nI hope you enjoyed this story!",
        "He was loyal to the end.",
        "   ",
    ]
    rows = [{"prompt": f"Prompt {i}", "story": story} for i, story in enumerate(stories)]
    summary = build_sft_records(
        str(write_jsonl(tmp_path / "s.jsonl", rows)), tmp_path / "out", test_fraction=0.0
    )
    texts = completions(tmp_path / "out", "train")
    assert len(texts) == 6, "the blank story is skipped"
    for text in texts:
        assert text.endswith(f"\n\n{END_MARKER}") and text.count("THE END") == 1, text
    assert texts[:5] == ["They drifted all night.\n\nTHE END."] * 5
    assert texts[5] == "He was loyal to the end.\n\nTHE END.", "prose 'the end.' is kept"
    assert (summary["end_marker_added"], summary["end_marker_kept"]) == (2, 1)
    assert (summary["end_marker_normalised"], summary["end_marker_trimmed"]) == (2, 1)
    assert summary["skipped_empty"] == 1
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["train"] == 6


def test_the_split_is_by_prompt_in_the_chat_format(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", story_rows(prompts=10, per_prompt=3))
    summary = build_sft_records(str(source), tmp_path / "out", test_fraction=0.3, seed=1)
    splits = load_from_disk(str(tmp_path / "out"))
    assert (summary["train"], summary["test"]) == (len(splits["train"]), len(splits["test"]))
    assert summary["train"] + summary["test"] == 30 and summary["test"] >= 9
    train_prompts = {row["prompt"][0]["content"] for row in splits["train"]}
    test_prompts = {row["prompt"][0]["content"] for row in splits["test"]}
    assert test_prompts and not train_prompts & test_prompts, "no prompt in both splits"
    assert len(train_prompts | test_prompts) == 10
    row = splits["test"][0]
    assert row["prompt"] == [{"role": "user", "content": row["prompt"][0]["content"]}]
    assert [m["role"] for m in row["completion"]] == ["assistant"]
    assert set(splits["train"].column_names) == {"prompt", "completion"}
    lines = (tmp_path / "out" / "test.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == splits["test"].to_list()
    assert not (tmp_path / "out.partial").exists()
    again = build_sft_records(str(source), tmp_path / "again", test_fraction=0.3, seed=1)
    assert again == summary, "a seed gives the same split"


def test_field_names_are_options_and_a_missing_field_is_named(tmp_path: Path) -> None:
    rows = [{"instruction": "Write about fog.", "output": "The fog came."}] * 2
    source = str(write_jsonl(tmp_path / "s.jsonl", rows))
    build_sft_records(source, tmp_path / "out", prompt_field="instruction", story_field="output")
    assert completions(tmp_path / "out", "train") == ["The fog came.\n\nTHE END."] * 2
    with pytest.raises(StorySourceError, match=r"\['instruction', 'output'\].*`prompt`"):
        build_sft_records(source, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_a_datasets_folder_of_conversational_records_is_a_source(tmp_path: Path) -> None:
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Tell tale {i}."}],
            "completion": [{"role": "assistant", "content": f"Tale {i}.\nTHE END."}],
            "score": 0.5,
        }
        for i in range(4)
    ]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "folder"))
    summary = build_sft_records(str(tmp_path / "folder"), tmp_path / "out", test_fraction=0.25)
    assert summary["kind"] == "datasets" and summary["end_marker_kept"] == 4
    assert (summary["train"], summary["test"]) == (3, 1)
    assert sorted(
        completions(tmp_path / "out", "train") + completions(tmp_path / "out", "test")
    ) == [f"Tale {i}.\n\nTHE END." for i in range(4)]


def chunk_folder(tmp_path: Path) -> Path:
    """A `data chunk` folder: two books by one author (tagged in the text), one by another."""
    rows = []
    for author, title in (("twain", "alpha"), ("twain", "beta"), ("doyle", "gamma")):
        for index in range(5):
            text = (
                f"It was morning in {title} {index}. The river was high.\n\n"
                f"Then the {title} boat came round the bend, and everybody ran to the landing."
            )
            rows.append(
                {"author": author, "title": title, "chunk_index": index, "text": text, "words": 25}
            )
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "chunks"))
    return tmp_path / "chunks"


def test_book_chunks_become_continuations_of_a_styled_prompt(tmp_path: Path) -> None:
    chunks = chunk_folder(tmp_path)
    summary = build_sft_records(
        str(chunks), tmp_path / "out", chunks_author="twain", author_name="Mark Twain",
        opening_words=6, test_fraction=0.3,
    )  # fmt: skip
    assert summary["kind"] == "chunks" and summary["train"] + summary["test"] == 10
    splits = load_from_disk(str(tmp_path / "out"))
    row = splits["train"][0]
    prompt = row["prompt"][0]["content"]
    opening = prompt.split('"')[1]
    assert opening.startswith("It was morning in") and "in the style of Mark Twain" in prompt
    assert "about 20 words" in prompt and prompt.endswith("Start your story:")
    story = row["completion"][0]["content"]
    assert story.startswith("The river was high.\n\nThen the") and story.endswith(END_MARKER)
    assert opening not in story, "the opening is the prompt's, not the completion's"

    def books(split: str) -> set[str]:
        return {
            "alpha" if "alpha" in r["completion"][0]["content"] else "beta" for r in splits[split]
        }

    assert len(books("train")) == len(books("test")) == 1 and books("train") != books("test")
    assert not any("gamma" in text for text in completions(tmp_path / "out", "train"))
    with pytest.raises(StorySourceError, match=r"--chunks-author.*\['doyle', 'twain'\]"):
        build_sft_records(str(chunks), tmp_path / "x")


@pytest.mark.parametrize(
    ("source", "message"),
    [("missing/stories.jsonl", "does not exist"), ("./missing", "does not exist")],
)
def test_a_missing_local_source_is_named(tmp_path: Path, source: str, message: str) -> None:
    with pytest.raises(StorySourceError, match=message):
        build_sft_records(source, tmp_path / "out")


def test_a_hub_id_offline_says_what_to_give_instead(tmp_path: Path) -> None:
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        pytest.skip("needs HF_HUB_OFFLINE=1: online, this would ask the Hub")
    with pytest.raises(StorySourceError, match=r"Hugging Face Hub.*JSONL file"):
        build_sft_records("someone/twain-stories", tmp_path / "out")


def test_cli_builds_records_and_reports_a_bad_source(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", story_rows(prompts=4, per_prompt=1))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "stylegrpo", "data", "build-sft", *args],
            capture_output=True, text=True, env=dict(os.environ), timeout=120,
        )  # fmt: skip

    done = run("--source", str(source), "--out", str(tmp_path / "out"), "--test-fraction", "0.25")
    assert done.returncode == 0 and "train 3 records, test 1 records" in done.stdout
    failed = run("--source", str(source), "--out", str(tmp_path / "x"), "--story-field", "tale")
    assert failed.returncode == 1 and "`tale`" in failed.stderr


@pytest.mark.slow
def test_with_a_tokenizer_a_text_column_holds_the_chat_rendering(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", story_rows(prompts=2, per_prompt=1))
    build_sft_records(
        str(source), tmp_path / "out", tokenizer="embedded:smollm2-135m-instruct",
        test_fraction=0.0,
    )  # fmt: skip
    row = load_from_disk(str(tmp_path / "out"))["train"][0]
    assert row["text"].startswith("<|im_start|>system\n")
    assert f"<|im_start|>user\n{row['prompt'][0]['content']}<|im_end|>" in row["text"]
    assert row["text"].endswith(
        f"<|im_start|>assistant\n{row['completion'][0]['content']}<|im_end|>\n"
    )
