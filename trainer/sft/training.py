"""Supervised fine-tuning of the story writer on prompt/completion stories (stage 2).

    stylegrpo data build-sft --source stories.jsonl --out data/sft-twain
    stylegrpo train sft --config configs/sft_cpu_smoke.yaml                # CPU, about a minute
    stylegrpo train sft --config configs/sft_twain.yaml --resume           # 1 GPU
    accelerate launch --config_file configs/accelerate/4gpu_ddp.yaml -m trainer.sft \\
        --config configs/sft_twain.yaml                      # also 1gpu.yaml, zero3.yaml

TRL's `SFTTrainer` renders each record with the tokenizer's chat template and computes the loss
on the completion only. The run directory holds the config as run, `metrics.jsonl` (one JSON
line per logging step), `checkpoints/` and `final/`, written whole or not at all: the trained
model, or with LoRA the adapter - merged into the model when `merge_lora` is on, the adapter
itself then kept in `final/adapter`. GRPO (stage 3) takes `final/` as its `model`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from shared.files import replaced_folder
from trainer.common.checkpoints import checkpoint_step, last_complete_checkpoint
from trainer.common.config_loading import ConfigError
from trainer.common.lora import lora_config
from trainer.common.metrics_log import METRICS_LOG, MetricsLogCallback
from trainer.common.policy_model import resolve_policy_model
from trainer.grpo.completions_log import drop_lines_after
from trainer.sft.config import SftRunConfig

log = logging.getLogger(__name__)

SFT_COLUMNS = ("prompt", "completion")


class SftDataError(ValueError):
    """The SFT dataset is missing or lacks a split or a column; the message says what to do."""


def train_sft(config: SftRunConfig) -> Path:
    """Run SFT as configured; returns the folder of the final model."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer  # type: ignore[attr-defined]

    train_data, eval_data = load_sft_splits(config.dataset, config.train_split, config.eval_split)
    args = sft_arguments(config)
    run_dir = config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    model = resolve_policy_model(config.model, config.cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(model)
    if not tokenizer.chat_template and not config.sft.get("chat_template_path"):
        raise ConfigError(
            f"the tokenizer of {config.model} has no chat template: set "
            "--sft.chat_template_path to a tokenizer or .jinja file that has one"
        )
    last = _checkpoint_to_resume(config)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_data,
        eval_dataset=eval_data,
        processing_class=tokenizer,
        peft_config=lora_config(config.lora),
        callbacks=[MetricsLogCallback(run_dir / METRICS_LOG)],
    )
    prepared: Any = trainer.train_dataset  # a map-style Dataset: SFT data is never streamed here
    dropped = len(train_data) - len(prepared)
    if dropped:
        log.warning(
            "%d of %d records left out: their prompt fills max_length %s, no completion token "
            "is left to learn from; raise sft.max_length",
            dropped, len(train_data), args.max_length,
        )  # fmt: skip
    trainer.train(resume_from_checkpoint=last)
    final = run_dir / "final"
    save_final(trainer, final, merge=config.lora.enabled and config.merge_lora)
    log.info("done: final model in %s", final)
    return final


def sft_arguments(config: SftRunConfig) -> Any:
    """TRL's `SFTConfig`: checkpoints in the run directory, CPU settings off CUDA, then `sft`."""
    import torch
    from trl import SFTConfig  # type: ignore[attr-defined]

    on_cpu = not torch.cuda.is_available()
    arguments: dict[str, Any] = {
        "output_dir": str(config.run_dir / "checkpoints"),
        **({"use_cpu": True, "bf16": False} if on_cpu else {}),
        **config.sft,
    }
    try:
        return SFTConfig(**arguments)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"sft: {exc} (`sft` holds TRL SFTConfig arguments; YAML reads a bare no/yes/on/off "
            "as a boolean, so quote such words)"
        ) from None


def _checkpoint_to_resume(config: SftRunConfig) -> str | None:
    """The last complete checkpoint when resuming; metrics logged after it are dropped (redone),
    all of them when there is none."""
    if not config.resume:
        return None
    checkpoints = config.run_dir / "checkpoints"
    last = last_complete_checkpoint(checkpoints)
    drop_lines_after(config.run_dir / METRICS_LOG, checkpoint_step(last))
    if last is None:
        log.warning("no complete checkpoint in %s: training from the start", checkpoints)
        return None
    log.info("resuming from %s (step %d)", last, checkpoint_step(last))
    return str(last)


def load_sft_splits(dataset: Path, train_split: str, eval_split: str | None) -> tuple[Any, Any]:
    """The train split and the eval split (None when absent or empty), prompt/completion only."""
    from datasets import Dataset, load_from_disk

    if dataset.is_file():
        splits = {train_split: Dataset.from_json(str(dataset))}
    elif dataset.is_dir():
        loaded = load_from_disk(str(dataset))
        splits = {train_split: loaded} if isinstance(loaded, Dataset) else dict(loaded)
    else:
        raise SftDataError(
            f"SFT dataset {dataset} not found: build it with `stylegrpo data build-sft --source "
            f"STORIES --out {dataset}`, or point --dataset at such a folder or a JSONL file"
        )
    if train_split not in splits:
        raise SftDataError(f"{dataset} has no split {train_split!r}; its splits: {sorted(splits)}")
    train = _prompt_completion(splits[train_split], f"{dataset} [{train_split}]")
    if not len(train):
        raise SftDataError(f"{dataset} [{train_split}] has no records")
    test = splits.get(eval_split) if eval_split is not None else None
    if test is None or not len(test):
        return train, None
    return train, _prompt_completion(test, f"{dataset} [{eval_split}]")


def _prompt_completion(split: Any, where: str) -> Any:
    missing = [column for column in SFT_COLUMNS if column not in split.column_names]
    if missing:
        raise SftDataError(
            f"{where} lacks the column(s) {missing} (it has {split.column_names}); SFT needs "
            "`prompt` and `completion`: build the dataset with `stylegrpo data build-sft`"
        )
    # Only these two: TRL would read a `text` column as language-modelling data.
    return split.select_columns(list(SFT_COLUMNS))


def save_final(trainer: Any, folder: Path, *, merge: bool) -> None:
    """Save the trained model (or adapter; merged when `merge`) to `folder` in one rename."""
    if not trainer.is_world_process_zero():
        # Every process takes part in the save (ZeRO-3 gathers the weights); only the first
        # one writes, into the folder it staged.
        trainer.save_model(str(folder.with_name(folder.name + ".partial")))
        return
    with replaced_folder(folder) as staging:
        trainer.save_model(str(staging / "adapter" if merge else staging))
        if merge:
            from peft import AutoPeftModelForCausalLM

            # From the saved adapter rather than the live model: under ZeRO-3 the live
            # weights are shards, the saved ones are whole.
            adapter = str(staging / "adapter")
            adapted = AutoPeftModelForCausalLM.from_pretrained(adapter, dtype="auto")
            adapted.merge_and_unload().save_pretrained(staging)
            trainer.processing_class.save_pretrained(staging)
