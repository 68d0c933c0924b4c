"""SFT (TRL SFTTrainer) on CPU with SmolLM2-135M-Instruct: full and LoRA, resume, clear errors."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from datasets import Dataset, DatasetDict
from safetensors.torch import load_file

from trainer.common.config_loading import ConfigError
from trainer.common.policy_model import EMBEDDED_POLICY, resolve_policy_model
from trainer.data.sft_records import build_sft_records
from trainer.sft.config import SftRunConfig, load_sft_config
from trainer.sft.training import SftDataError, load_sft_splits, train_sft

ROOT = Path(__file__).resolve().parents[3]
# The product's own cache: the export is made once and reused, as `train sft` itself does.
CACHE = SftRunConfig().cache_dir


@pytest.fixture(scope="module")
def smollm2() -> Path:
    """The embedded SmolLM2-135M-Instruct as a plain folder."""
    return Path(resolve_policy_model(EMBEDDED_POLICY, CACHE))


@pytest.fixture
def stories(tmp_path: Path) -> Path:
    """A tiny SFT folder from `data build-sft`: four short stories, one prompt held out."""
    rows = [
        {"prompt": f"Write a short tale about a raft on day {day}.", "story": story}
        for day, story in enumerate(
            [
                "We shoved off at night and the river was wide and still.",
                "The fog came down and we lost the raft for an hour.",
                "A steamboat came round the bend and we jumped for it.",
                "Jim said it was luck, and maybe he was right about that.",
            ]
        )
    ]
    source = tmp_path / "stories.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    build_sft_records(str(source), tmp_path / "sft", test_fraction=0.25)
    return tmp_path / "sft"


def run_config(run_dir: Path, data: Path, steps: int, **settings: Any) -> SftRunConfig:
    overrides = {
        "model": EMBEDDED_POLICY, "dataset": str(data), "run_dir": str(run_dir),
        "cache_dir": str(CACHE), "sft.max_steps": steps, "sft.max_length": 128,
        "sft.per_device_train_batch_size": 1, "sft.learning_rate": 1e-3,
        "sft.gradient_checkpointing": False, "sft.logging_steps": 1, "sft.report_to": "none",
        **settings,
    }  # fmt: skip
    return load_sft_config(None, [p for k, v in overrides.items() for p in (f"--{k}", str(v))])


def generated_tokens(folder: Path) -> int:
    """How many tokens the saved model writes after a chat prompt (greedy, at most 6)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Tell me about the river."}],
        add_generation_prompt=True, return_tensors="pt", return_dict=True,
    )  # fmt: skip
    output = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    return int(output.shape[1] - prompt["input_ids"].shape[1])


def losses(run_dir: Path) -> list[tuple[int, float]]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(line["step"], line["loss"]) for line in lines if "loss" in line]


@pytest.mark.slow
def test_full_sft_changes_the_weights_and_the_final_model_generates(
    tmp_path: Path, smollm2: Path, stories: Path, caplog: pytest.LogCaptureFixture
) -> None:
    too_long = {
        "prompt": [{"role": "user", "content": "Tell it again. " * 60}],
        "completion": [{"role": "assistant", "content": "No.\n\nTHE END."}],
    }
    data = tmp_path / "train.jsonl"
    data.write_text((stories / "train.jsonl").read_text() + json.dumps(too_long) + "\n")
    run_dir = tmp_path / "run"
    caplog.set_level(logging.WARNING, logger="trainer.sft.training")
    final = train_sft(run_config(run_dir, data, steps=1, **{"sft.save_strategy": '"no"'}))
    assert "1 of 4 records left out" in caplog.text, "a prompt longer than max_length is named"

    before, after = load_file(smollm2 / "model.safetensors"), load_file(final / "model.safetensors")
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert len(changed) > len(before) // 2, "full fine-tuning updates the weights"
    assert not (final / "adapter_config.json").exists() and not (final / "adapter").exists()
    (step, loss), *_ = losses(run_dir)
    assert step == 1 and math.isfinite(loss) and loss > 0
    assert generated_tokens(final) > 0
    assert (run_dir / "config.yaml").is_file() and not (run_dir / "final.partial").exists()


@pytest.mark.slow
def test_lora_sft_merges_the_adapter_and_resumes_the_step_count(
    tmp_path: Path, smollm2: Path, stories: Path
) -> None:
    run_dir = tmp_path / "run"
    lora = {"lora.enabled": "true", "merge_lora": "true", "sft.save_steps": 1}
    final = train_sft(run_config(run_dir, stories, steps=2, **lora))

    adapter = json.loads((final / "adapter" / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"], adapter["lora_dropout"]) == (8, 16, 0.05)
    assert sorted(adapter["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    before, after = load_file(smollm2 / "model.safetensors"), load_file(final / "model.safetensors")
    assert before.keys() == after.keys(), "the merged model has the base model's layout"
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert any("q_proj" in name for name in changed) and any("o_proj" in name for name in changed)
    assert all("self_attn" in name for name in changed), "LoRA touches only q, k, v, o"
    assert generated_tokens(final) > 0
    assert [step for step, _ in losses(run_dir)] == [1, 2]

    # As if the run had died before saving step 2: resuming redoes it from checkpoint-1.
    shutil.rmtree(run_dir / "checkpoints" / "checkpoint-2")
    resumed = train_sft(
        run_config(run_dir, stories, steps=2, resume="true", **{**lora, "merge_lora": "false"})
    )
    assert (resumed / "adapter_config.json").is_file(), "unmerged, the final folder is the adapter"
    assert not (resumed / "model.safetensors").exists() and not (resumed / "adapter").exists()
    checkpoint = run_dir / "checkpoints" / "checkpoint-2"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and len(state["log_history"]) >= 2
    logged = losses(run_dir)
    assert [step for step, _ in logged] == [1, 2], "step 2's first try is dropped from the log"
    assert all(math.isfinite(loss) for _, loss in logged)


def test_a_missing_dataset_or_column_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SftDataError, match="data build-sft"):
        load_sft_splits(tmp_path / "nowhere", "train", "test")
    raw = DatasetDict({"train": Dataset.from_list([{"prompt": "p", "story": "s"}])})
    raw.save_to_disk(str(tmp_path / "raw"))
    with pytest.raises(SftDataError, match=r"lacks the column\(s\) \['completion'\]"):
        load_sft_splits(tmp_path / "raw", "train", "test")
    with pytest.raises(SftDataError, match=r"no split 'training'; its splits: \['train'\]"):
        load_sft_splits(tmp_path / "raw", "training", None)


def test_a_jsonl_file_is_the_train_split_without_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    row = {"prompt": "p", "completion": "c", "text": "rendered"}
    path.write_text(json.dumps(row) + "\n")
    train, test = load_sft_splits(path, "train", "test")
    assert train.column_names == ["prompt", "completion"] and test is None


def test_shipped_configs_load_with_the_originals_hyperparameters() -> None:
    twain = load_sft_config(ROOT / "configs" / "sft_twain.yaml", [])
    sft = twain.sft
    assert (sft["learning_rate"], sft["per_device_train_batch_size"]) == (2e-4, 2)
    assert (sft["gradient_accumulation_steps"], sft["max_length"]) == (4, 2048)
    lora = twain.lora
    assert (lora.enabled, lora.r, lora.alpha, lora.dropout) == (True, 8, 16, 0.05)
    assert lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    smoke = load_sft_config(ROOT / "configs" / "sft_cpu_smoke.yaml", ["--sft.max_steps", "2"])
    assert smoke.model == EMBEDDED_POLICY and smoke.sft["max_steps"] == 2


def test_bad_keys_are_named_before_any_model_loads(tmp_path: Path, stories: Path) -> None:
    with pytest.raises(ConfigError, match=r"lora\.rank"):
        load_sft_config(None, ["--lora.rank", "4"])
    with pytest.raises(ConfigError, match=r"sft\.lerning_rate .*closest: sft\.learning_rate"):
        load_sft_config(
            None,
            ["--dataset", str(stories), "--run_dir", str(tmp_path / "run"),
             "--sft.lerning_rate", "1"],
        )  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_cli_reports_a_bad_config_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: x\n")
    result = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "train", "sft", "--config", str(bad), "--resume"],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "modle" in result.stderr
