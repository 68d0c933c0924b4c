"""An SFT run's configuration: a dataclass read from YAML, overridden on the command line.

The same conventions as the GRPO config (trainer/grpo/config.py): dotted keys
(`--sft.learning_rate 1e-4`, `--lora.enabled true`), values parsed as YAML scalars, and an error
that names any unknown key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.common.config_loading import load_dataclass, plain_config
from trainer.common.lora import LoraSettings
from trainer.common.policy_model import EMBEDDED_POLICY


@dataclass
class SftRunConfig:
    """Everything an SFT run needs; `sft` holds TRL `SFTConfig` arguments as they are."""

    model: str = EMBEDDED_POLICY
    """The model to fine-tune: a hub id, a folder, or `embedded:smollm2-135m-instruct`."""
    dataset: Path = Path("data/sft")
    """A folder written by `stylegrpo data build-sft`, or a JSONL file of prompt/completion."""
    train_split: str = "train"
    """The dataset split trained on."""
    eval_split: str | None = "test"
    """Evaluated on when the dataset has this split (and `sft.eval_strategy` asks for it)."""
    run_dir: Path = Path("runs/sft")
    """Where the run writes its config copy, checkpoints and final model."""
    cache_dir: Path = Path.home() / ".cache" / "stylegrpo"
    """Where exported models are kept between runs."""
    resume: bool = False
    """Continue from the run directory's newest complete checkpoint."""
    merge_lora: bool = True
    """With LoRA on: save the final model with the adapter merged in (and the adapter beside it)."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    sft: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for the run directory's copy of the config."""
        return plain_config(self)


def load_sft_config(path: Path | None, overrides: list[str]) -> SftRunConfig:
    """The SFT config from `path` (or defaults), with `--key value` overrides applied in order."""
    config: SftRunConfig = load_dataclass(
        SftRunConfig, path, overrides, passthrough="sft", arguments_class="trl:SFTConfig"
    )
    return config
