"""Stage 1: the style-encoder run config, the loss options, and real training steps on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset, DatasetDict

from trainer.common.config_loading import ConfigError
from trainer.style_encoder.config import LOSSES, load_style_encoder_config
from trainer.style_encoder.losses import batch_sampler, build_loss, training_columns
from trainer.style_encoder.training import train_style_encoder, training_arguments

ROOT = Path(__file__).resolve().parents[3]
VOICES = {
    "alpha": "I reckon the {} was mighty quiet, and we laid up there a spell, number {}.",
    "beta": "Holmes remarked that the {} presented a most singular feature, item {}.",
    "gamma": "Bertie thought the {} frightfully jolly, what, and rather topping, point {}!",
    "llm": "In today's fast-paced world, the {} unlocks real value for everyone, step {}.",
}


def passage(author: str, title: str, n: int) -> str:
    return " ".join(VOICES[author].format(title, f"{n}-{i}") for i in range(2))


def tiny_pairs(folder: Path) -> Path:
    """A pair dataset in the shape `data build-style-pairs` writes, a few rows per kind."""

    def row(kind: str, a: tuple[str, str, int], b: tuple[str, str, int], score: float) -> dict:
        return {
            "sentence1": passage(*a), "sentence2": passage(*b), "score": score, "kind": kind,
            "author1": a[0], "author2": b[0], "title1": a[1], "title2": b[1],
        }  # fmt: skip

    def rows(offset: int, count: int) -> list[dict]:
        out = []
        for n in range(offset, offset + count):
            for author in ("alpha", "beta", "gamma"):
                other = "beta" if author != "beta" else "gamma"
                out += [
                    row("same_author", (author, "one", n), (author, "two", n), 1.0),
                    row("cross_author", (author, "one", n), (other, "two", n), 0.0),
                    row("llm_generic", (author, "two", n), ("llm", "llm[0:9]", n), 0.0),
                ]
        perturbed = row("perturbed", ("alpha", "one", offset), ("beta", "one", offset), 2 / 3)
        return [*out, perturbed | {"sentence2": "Mixed: " + perturbed["sentence2"]}]

    DatasetDict(
        {
            "train": Dataset.from_list(rows(0, 2)),
            "validation": Dataset.from_list(rows(10, 1)),
            "test": Dataset.from_list(rows(20, 1)),
        }
    ).save_to_disk(str(folder))
    return folder


def test_shipped_configs_carry_the_originals_hyperparameters() -> None:
    twain = load_style_encoder_config(ROOT / "configs" / "style_encoder_twain.yaml", [])
    arguments = twain.training_arguments()
    assert twain.loss == "cosine" and twain.max_seq_length == 256
    assert (arguments["learning_rate"], arguments["per_device_train_batch_size"]) == (2e-5, 64)
    assert (arguments["num_train_epochs"], arguments["warmup_steps"]) == (5, 0.1)
    assert (twain.early_stopping_patience, twain.early_stopping_threshold) == (3, 0.003)
    smoke = load_style_encoder_config(ROOT / "configs" / "style_encoder_cpu_smoke.yaml", [])
    assert smoke.base_model is None and smoke.training["max_steps"] <= 50
    triplet = load_style_encoder_config(ROOT / "configs" / "style_encoder_cpu_triplet.yaml", [])
    assert triplet.loss == "batch_hard_triplet" and triplet.max_seq_length == 256


def test_overrides_and_errors_name_the_key(tmp_path: Path) -> None:
    config = load_style_encoder_config(
        ROOT / "configs" / "style_encoder_cpu_smoke.yaml",
        ["--loss", "batch_hard_triplet", "--training.learning_rate", "1e-4", "--out_dir",
         str(tmp_path), "--max-seq-length=64"],
    )  # fmt: skip
    assert config.loss == "batch_hard_triplet" and config.training["learning_rate"] == 1e-4
    assert config.out_dir == tmp_path and config.max_seq_length == 64
    for overrides, message in [
        (["--loss", "triplet"], "not one of cosine, mnrl, batch_hard_triplet"),
        (["--max_seq_lenght", "64"], "unknown key"),
        (["--max_seq_length", "1.5"], "max_seq_length must be an integer"),
        (["--resume", "1"], "resume must be true or false"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_style_encoder_config(None, overrides)
    reserved = load_style_encoder_config(None, ["--training.output_dir", "x"])
    with pytest.raises(ConfigError, match=r"training\.output_dir is set by the run"):
        training_arguments(reserved, tmp_path)
    mismatched = load_style_encoder_config(None, ["--training.save_strategy", "steps"])
    with pytest.raises(ConfigError, match="training: "):
        training_arguments(mismatched, tmp_path)


def test_each_loss_gets_the_columns_it_needs(tmp_path: Path) -> None:
    from datasets import load_from_disk

    train = load_from_disk(str(tiny_pairs(tmp_path / "pairs")))["train"]
    cosine = training_columns(train, "cosine", seed=0)
    assert cosine.column_names == ["sentence1", "sentence2", "score"]
    triplet = training_columns(train, "batch_hard_triplet", seed=0)
    assert triplet.column_names == ["text", "label"] and set(triplet["label"]) == {0, 1, 2, 3}
    assert not any(text.startswith("Mixed") for text in triplet["text"]), "no perturbed copy"
    mnrl = training_columns(train, "mnrl", seed=0)
    assert mnrl.column_names == ["anchor", "positive", "negative"] and len(mnrl) == 6
    for row in mnrl:
        assert row["anchor"].split()[0] == row["positive"].split()[0]
        assert row["anchor"].split()[0] != row["negative"].split()[0]
    assert batch_sampler("batch_hard_triplet") == "group_by_label"


def test_cli_reports_missing_pairs_and_bad_keys(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "stylegrpo", "train", "style-encoder"]
    missing = subprocess.run(
        [*command, "--pairs", str(tmp_path / "none"), "--out_dir", str(tmp_path / "run")],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert missing.returncode == 1 and "build-style-pairs" in missing.stderr
    bad = subprocess.run(
        [*command, "--lossy", "cosine"],
        capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "lossy" in bad.stderr


def steps_config(pairs: Path, out: Path, steps: int, resume: bool = False) -> list[str]:
    overrides = {
        "pairs": pairs, "out_dir": out, "max_seq_length": 64, "eval_batch_size": 16,
        "resume": str(resume).lower(), "training.max_steps": steps,
        "training.per_device_train_batch_size": 4, "training.learning_rate": 1e-4,
        "training.warmup_steps": 0, "training.eval_strategy": "steps",
        "training.save_strategy": "steps", "training.eval_steps": 1, "training.save_steps": 1,
        "training.logging_steps": 1,
    }  # fmt: skip
    return [part for key, value in overrides.items() for part in (f"--{key}", str(value))]


@pytest.mark.slow
def test_training_saves_the_best_model_and_resumes(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from services.style.encoding.encoder import resolve_model

    pairs, out = tiny_pairs(tmp_path / "pairs"), tmp_path / "run"
    final = train_style_encoder(load_style_encoder_config(None, steps_config(pairs, out, 2)))

    assert final == out / "model" and not (out / "model.partial").exists()
    base = SentenceTransformer(resolve_model(None)[0], device="cpu").state_dict()
    trained = SentenceTransformer(str(final), device="cpu")
    assert trained.max_seq_length == 64
    changed = [k for k, v in trained.state_dict().items() if not torch.equal(v, base[k])]
    assert changed, "training must change the encoder's weights"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 2 and metrics["loss"] == "cosine"
    for stage in ("before", "after"):
        assert -1 <= metrics[stage]["test"]["test_spearman_cosine"] <= 1
    assert metrics["after"]["validation"]["validation_spearman_cosine"] == pytest.approx(
        metrics["best_validation_spearman"]
    ), "the saved model is the best checkpoint"

    earlier = {p.name: p.stat().st_mtime_ns for p in (out / "checkpoints").glob("checkpoint-*")}
    assert set(earlier) == {"checkpoint-1", "checkpoint-2"}
    train_style_encoder(load_style_encoder_config(None, steps_config(pairs, out, 3, resume=True)))
    assert json.loads((out / "metrics.json").read_text())["steps"] == 3
    for name, written in earlier.items():
        path = out / "checkpoints" / name
        assert not path.exists() or path.stat().st_mtime_ns == written, "resumed, not redone"


@pytest.mark.slow
@pytest.mark.parametrize("loss", [name for name in LOSSES if name != "cosine"])
def test_each_contrastive_loss_runs_a_training_step(loss: str, tmp_path: Path) -> None:
    from datasets import load_from_disk
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    from services.style.encoding.encoder import resolve_model

    model = SentenceTransformer(resolve_model(None)[0], device="cpu")
    model.max_seq_length = 64
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train = load_from_disk(str(tiny_pairs(tmp_path / "pairs")))["train"]
    arguments = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=4,
        learning_rate=1e-4, save_strategy="no", report_to="none", batch_sampler=batch_sampler(loss),
    )  # fmt: skip
    trainer = SentenceTransformerTrainer(
        model=model,
        args=arguments,
        train_dataset=training_columns(train, loss, seed=0),
        loss=build_loss(model, loss, triplet_margin=2.0),  # cosine distance <= 2: never 0
    )
    result = trainer.train()
    assert result.global_step == 1 and torch.isfinite(torch.tensor(result.training_loss))
    after = model.state_dict()
    assert any(not torch.equal(after[k], before[k]) for k in before)


@pytest.mark.slow
def test_a_run_ends_with_the_authorship_auc_of_base_and_trained_encoders(
    corpus_books: Path,
    negative_texts: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trainer.data.chunks import build_chunks
    from trainer.data.style_pairs import StylePairsSettings, build_style_pairs

    books = tmp_path / "books"
    books.mkdir()
    for name in (
        "mark-twain--a-dog-s-tale", "mark-twain--a-horse-s-tale",
        "mark-twain--alonzo-fitz-and-other-stories", "mark-twain--roughing-it-part-3",
        "arthur-conan-doyle--ash-02-red-headed-league", "arthur-conan-doyle--ash-08-speckled-band",
        "arthur-conan-doyle--sign-of-four", "arthur-conan-doyle--study-in-scarlet",
    ):  # fmt: skip
        (books / f"{name}.txt").symlink_to((corpus_books / f"{name}.txt").resolve())
    build_chunks(books, tmp_path / "chunks", 1500)
    settings = StylePairsSettings(
        validation_fraction=0.25, test_fraction=0.25, max_train_pairs=16, max_eval_pairs=8
    )
    summary = build_style_pairs(tmp_path / "chunks", negative_texts, tmp_path / "pairs", settings)
    held_out = {t["title"] for t in summary["splits"]["test"]["titles"]} & {
        p.stem.split("--")[1] for p in books.iterdir()
    }
    for name, value in {
        "WINDOWS_PER_BOOK": "6", "WINDOWS_PER_NEGATIVE": "24",
        "CLASSIFIER_WINDOWS_PER_BOOK": "20", "CLASSIFIER_WINDOWS_PER_NEGATIVE": "60",
        "CLASSIFIER_FOLDS": "2", "CACHE_DIR": str(tmp_path / "cache"),
        "WINDOW_OVERLAP_TOKENS": "8",  # the trained encoder's windows are 62 tokens
    }.items():  # fmt: skip
        monkeypatch.setenv(f"STYLE_{name}", value)
    overrides = steps_config(tmp_path / "pairs", tmp_path / "run", 1)
    overrides += ["--authorship_books", str(books)]
    if negative_texts:
        overrides += ["--authorship_negative_texts", str(negative_texts[0])]
    train_style_encoder(load_style_encoder_config(None, overrides))

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    results = metrics["authorship"]
    assert [(r["model"] == str(tmp_path / "run" / "model"), r["classifier"]) for r in results] == [
        (False, False), (False, True), (True, False), (True, True),
    ]  # fmt: skip
    assert all(0.0 <= r["auc_vs_authors"] <= 1.0 for r in results)
    written = json.loads((tmp_path / "run" / "authorship" / "authorship.json").read_text())
    assert {name.split("--")[1] for name in written["held_out_books"]} == held_out
