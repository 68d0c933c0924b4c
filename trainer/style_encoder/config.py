"""A style-encoder run's configuration (stage 1): a dataclass read from YAML, overridden on the
command line with `--key value` (dotted keys reach into `training`: `--training.max_steps 50`),
the same conventions as the GRPO run's `trainer.grpo.config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.common.config_loading import ConfigError, load_dataclass, plain_config

LOSSES = ("cosine", "mnrl", "batch_hard_triplet")
# The original's stage 1; `training` in the config overrides any of them.
ORIGINAL_TRAINING: dict[str, Any] = {
    "learning_rate": 2e-5,
    "per_device_train_batch_size": 64,
    "num_train_epochs": 5,
    "warmup_steps": 0.1,  # below 1: a fraction of the total steps
}


@dataclass
class StyleEncoderConfig:
    """Everything a style-encoder run needs; `training` holds `SentenceTransformerTrainingArguments`
    arguments as they are (on top of `ORIGINAL_TRAINING`)."""

    pairs: Path = Path("data/style-pairs")
    """The scored passage pairs (`stylegrpo data build-style-pairs`)."""
    out_dir: Path = Path("runs/style-encoder")
    """Where the run writes its config copy, checkpoints, `model/` and `metrics.json`."""
    base_model: str | None = None  # a hub id or a folder; None: the embedded all-MiniLM-L6-v2
    loss: str = "cosine"
    """`cosine` (pairs and scores), `mnrl` (in-batch negatives) or `batch_hard_triplet`."""
    max_seq_length: int = 256
    """Tokens per passage the encoder reads."""
    triplet_margin: float = 0.5  # batch_hard_triplet, on cosine distance (0..2)
    eval_batch_size: int = 32
    """Pairs per batch of the evaluators."""
    early_stopping_patience: int = 3
    """Evaluations without improvement before training stops."""
    early_stopping_threshold: float = 0.003
    """The least rise of the validation Spearman that counts as improvement."""
    resume: bool = False
    """Continue from the run's newest complete checkpoint."""
    # Books (AUTHOR--TITLE.txt) to run the authorship evaluator on after training: the pairs'
    # test-split books are held out, and the base and trained encoders are compared.
    authorship_books: Path | None = None
    authorship_negative_texts: Path | None = None
    """LLM-written prose for that evaluation (a part is held out)."""
    authorship_author: str = "mark-twain"
    """The author whose passages are the positives of that evaluation."""
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"loss {self.loss!r} is not one of {', '.join(LOSSES)}")
        if self.max_seq_length < 8:
            raise ConfigError(f"max_seq_length must be at least 8, got {self.max_seq_length}")
        if self.eval_batch_size < 1 or self.early_stopping_patience < 1:
            raise ConfigError("eval_batch_size and early_stopping_patience must be at least 1")

    def training_arguments(self) -> dict[str, Any]:
        """The original's hyper-parameters with this config's `training` on top."""
        return {**ORIGINAL_TRAINING, **self.training}

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for the run folder's copy of the config."""
        return plain_config(self)


def load_style_encoder_config(path: Path | None, overrides: list[str]) -> StyleEncoderConfig:
    """The config from `path` (or defaults), with `--key value` overrides applied in order."""
    config: StyleEncoderConfig = load_dataclass(
        StyleEncoderConfig,
        path,
        overrides,
        passthrough="training",
        arguments_class="sentence_transformers:SentenceTransformerTrainingArguments",
    )
    return config
