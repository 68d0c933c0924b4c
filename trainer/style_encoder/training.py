"""Fine-tune the sentence-transformer that judges style (stage 1) on scored passage pairs.

    stylegrpo data build-style-pairs --chunks data/chunks \\
        --negative-texts ../shared/corpus/llm-generic-paragraphs.jsonl --out data/style-pairs
    stylegrpo train style-encoder --config configs/style_encoder_cpu_smoke.yaml   # CPU, minutes
    stylegrpo train style-encoder --config configs/style_encoder_twain.yaml       # 1 GPU
    stylegrpo train style-encoder --config configs/style_encoder_twain.yaml --resume true
    accelerate launch --config_file configs/accelerate/4gpu_ddp.yaml -m trainer.style_encoder \\
        --config configs/style_encoder_twain.yaml

The base encoder is resolved as the style service resolves `STYLE_MODEL`
(`services.style.encoding.encoder`). The validation split's `EmbeddingSimilarityEvaluator` (Spearman
of cosine vs score) picks the best checkpoint and stops training early. The run folder holds
`config.yaml`, `checkpoints/`, the best model in `model/` (the style service's `STYLE_MODEL`) and
`metrics.json`: both evaluators' results for the base model and for the trained one. With
`authorship_books` set, the authorship evaluator (`trainer.style_encoder.authorship_eval`) then
scores the pairs' test-split books with the style service's scorer, base encoder vs trained, into
`authorship/` and `metrics.json`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from shared.files import replaced_file, replaced_folder
from trainer.common.config_loading import ConfigError
from trainer.style_encoder.config import StyleEncoderConfig
from trainer.style_encoder.losses import PairsDataError, batch_sampler, build_loss, training_columns

log = logging.getLogger(__name__)

PAIR_COLUMNS = {"sentence1", "sentence2", "score", "kind", "author1", "author2"}
EVAL_SPLITS = ("validation", "test")
BEST_METRIC = "eval_validation_spearman_cosine"
# Set by the run itself: best-model selection and early stopping depend on them.
RESERVED_ARGUMENTS = ("output_dir", "load_best_model_at_end", "metric_for_best_model")
RUN_DEFAULTS: dict[str, Any] = {
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "logging_steps": 10,
    "report_to": "none",
}


def train_style_encoder(config: StyleEncoderConfig) -> Path:
    """Train as configured; returns the folder of the best model (`OUT/model`)."""
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from transformers import EarlyStoppingCallback

    from services.style.encoding.encoder import resolve_model  # imports sentence-transformers

    splits = load_pairs(config.pairs)
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    checkpoints = out / "checkpoints"
    arguments = training_arguments(config, checkpoints)
    source, name = resolve_model(config.base_model)
    log.info("loading base model %s", name)
    model = SentenceTransformer(source)
    model.max_seq_length = config.max_seq_length
    evaluators = {split: _evaluator(splits[split], split, config) for split in EVAL_SPLITS}
    before = {split: _plain(evaluator(model)) for split, evaluator in evaluators.items()}
    log.info("base model: %s", before)
    trainer = SentenceTransformerTrainer(
        model=model,
        args=arguments,
        train_dataset=training_columns(splits["train"], config.loss, arguments.seed),
        loss=build_loss(model, config.loss, triplet_margin=config.triplet_margin),
        evaluator=evaluators["validation"],
        callbacks=[
            EarlyStoppingCallback(
                early_stopping_patience=config.early_stopping_patience,
                early_stopping_threshold=config.early_stopping_threshold,
            )
        ],
    )
    last = _last_checkpoint(checkpoints) if config.resume else None
    trainer.train(resume_from_checkpoint=last)
    final = out / "model"
    if not trainer.is_world_process_zero():  # one process of a multi-GPU launch writes
        return final
    trained = trainer.model
    after = {split: _plain(evaluator(trained)) for split, evaluator in evaluators.items()}
    with replaced_folder(final) as staging:
        trained.save(str(staging))
    metrics = {
        "base_model": name,
        "loss": config.loss,
        "max_seq_length": config.max_seq_length,
        "pairs": str(config.pairs),
        "model": str(final),
        "steps": trainer.state.global_step,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_validation_spearman": trainer.state.best_metric,
        "before": before,
        "after": after,
    }
    _write_json(out / "metrics.json", metrics)
    log.info("done: model in %s; test %s -> %s", final, before["test"], after["test"])
    if config.authorship_books is not None:
        metrics["authorship"] = _authorship(config, final)
        _write_json(out / "metrics.json", metrics)
    return final


def _authorship(config: StyleEncoderConfig, final: Path) -> list[dict[str, Any]]:
    """AUCs of the base and trained encoders on the pairs' test-split books, never trained on."""
    from dataclasses import asdict

    from shared.book_folder import find_books
    from trainer.style_encoder.authorship_eval import AuthorshipTest, evaluate_authorship

    assert config.authorship_books is not None
    summary = json.loads((config.pairs / "summary.json").read_text(encoding="utf-8"))
    books = {(book.author, book.title) for book in find_books(config.authorship_books)}
    # The test split also names ranges of the negative texts; only books are held out here.
    held_out = [
        (entry["author"], entry["title"])
        for entry in summary["splits"]["test"]["titles"]
        if (entry["author"], entry["title"]) in books
    ]
    if not any(author == config.authorship_author for author, _ in held_out):
        log.warning(
            "no authorship evaluation: the pairs' test split has no book by %s in %s",
            config.authorship_author,
            config.authorship_books,
        )
        return []
    titles = tuple(title for _, title in held_out)
    results = evaluate_authorship(
        config.authorship_books,
        config.authorship_negative_texts,
        config.out_dir / "authorship",
        models=[config.base_model, str(final)],
        test=AuthorshipTest(author=config.authorship_author, held_out_titles=titles),
    )
    return [asdict(result) for result in results]


def load_pairs(folder: Path) -> Any:
    """The pair dataset (`stylegrpo data build-style-pairs`), checked for splits and columns."""
    from datasets import DatasetDict, load_from_disk

    if not folder.is_dir():
        raise PairsDataError(
            f"pairs folder {folder} not found: run `stylegrpo data build-style-pairs`"
        )
    splits = load_from_disk(str(folder))
    if not isinstance(splits, DatasetDict) or not {"train", *EVAL_SPLITS} <= set(splits):
        raise PairsDataError(f"{folder} must hold train, validation and test splits")
    for split_name, split in splits.items():
        missing = PAIR_COLUMNS - set(split.column_names)
        if missing or len(split) == 0:
            raise PairsDataError(f"{folder} {split_name}: empty or lacks columns {sorted(missing)}")
    return splits


def training_arguments(config: StyleEncoderConfig, checkpoints: Path) -> Any:
    """`SentenceTransformerTrainingArguments`: run defaults, the original's hyper-parameters, the
    config's `training`, then what best-model selection needs."""
    from sentence_transformers import SentenceTransformerTrainingArguments

    reserved = sorted(set(config.training) & set(RESERVED_ARGUMENTS))
    if reserved:
        raise ConfigError(f"training.{reserved[0]} is set by the run; remove it from the config")
    try:
        return SentenceTransformerTrainingArguments(
            **{
                **RUN_DEFAULTS,
                "batch_sampler": batch_sampler(config.loss),
                **config.training_arguments(),
                "output_dir": str(checkpoints),
                "load_best_model_at_end": True,
                "metric_for_best_model": BEST_METRIC,
                "greater_is_better": True,
            }
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"training: {exc}") from None


def _last_checkpoint(checkpoints: Path) -> str | None:
    """The newest complete checkpoint to resume from, if the run has one."""
    from trainer.common.checkpoints import last_complete_checkpoint

    last = last_complete_checkpoint(checkpoints)
    log.info("resuming from %s", last or "the start: no checkpoint yet")
    return str(last) if last else None


def _evaluator(pairs: Any, name: str, config: StyleEncoderConfig) -> Any:
    from sentence_transformers.sentence_transformer.evaluation import (
        EmbeddingSimilarityEvaluator,
    )

    return EmbeddingSimilarityEvaluator(
        pairs["sentence1"],
        pairs["sentence2"],
        pairs["score"],
        batch_size=config.eval_batch_size,
        main_similarity="cosine",
        name=name,
        write_csv=False,
    )


def _plain(metrics: dict[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with replaced_file(path) as handle:
        handle.write((json.dumps(data, indent=2) + "\n").encode())
