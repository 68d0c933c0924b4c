"""Every encoder backend embeds like `SentenceTransformer.encode`, and exports only once."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from services.style.encoding.encoder import WindowEncoder, resolve_backend
from services.style.encoding.openvino_export import exported_model, weights_digest

# Lengths from one sentence to a full 256-token window, so batches pad and sort.
SENTENCE = "The river was a mile wide and the raft drifted on it all night long, slow and quiet. "
TEXTS = [SENTENCE * n for n in (1, 3, 20, 2, 14, 1, 7, 30, 5, 11)]
# Cosine to PyTorch fp32 of the same window, by the arithmetic the runtime settled on. f32
# differs in the last bits only (OpenVINO 0.99999994 on an Intel Sapphire Rapids, 0.99999+ on an
# AMD Zen 3). OpenVINO's `auto` runs bf16 where the CPU has it (Sapphire Rapids: AVX-512-BF16,
# AMX): 0.999983 measured there. int8 weights cost more (0.9992 f32, 0.9993 bf16 on these texts;
# 0.9991 at worst on 151 real 256-token windows).
MIN_COSINE = {"f32": 0.99999, "fp32": 0.99999, "bf16": 0.9995}
MIN_COSINE_INT8_WEIGHTS = 0.995


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encoder-cache")


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["auto", "fp32"])
@pytest.mark.parametrize("backend", ["torch", "openvino", "openvino-int8"])
def test_backend_matches_sentence_transformers_in_order(
    backend: str, precision: str, cache_dir: Path
) -> None:
    encoder = WindowEncoder(
        None,
        device="cpu",
        batch_size=4,
        batch_tokens=1024,
        backend=backend,
        precision=precision,
        cache_dir=cache_dir,
    )
    reference = encoder.model.encode(TEXTS, batch_size=32, convert_to_numpy=True)
    embeddings = encoder.encode(TEXTS)
    assert embeddings.shape == reference.shape and embeddings.dtype == np.float32
    arithmetic = encoder.runtime.precision
    assert precision == "auto" or arithmetic in ("f32", "fp32")
    floor = MIN_COSINE_INT8_WEIGHTS if backend == "openvino-int8" else MIN_COSINE[arithmetic]
    assert cosines(embeddings, reference).min() >= floor, f"{backend} in {arithmetic}"
    # Another order gives the same rows, moved: batches are planned by length, not position.
    order = [7, 0, 3, 9, 1, 8, 2, 6, 4, 5]
    shuffled = encoder.encode([TEXTS[i] for i in order])
    np.testing.assert_allclose(shuffled, embeddings[order], atol=1e-5)
    assert encoder.encode([]).shape == (0, reference.shape[1])


@pytest.mark.slow
def test_the_export_is_cached_and_keyed_by_the_weights(
    cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    encoder = WindowEncoder(None, device="cpu", batch_size=4, backend="torch")
    transformer = encoder.model[0].auto_model
    example = {"input_ids": torch.tensor([[101, 2000, 102]]), "attention_mask": torch.ones(1, 3)}
    example = {k: v.long() for k, v in example.items()}
    example["token_type_ids"] = torch.zeros(1, 3, dtype=torch.long)
    first = exported_model(transformer, example, int8_weights=False, cache_dir=cache_dir)
    written = first.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="services.style.encoding.openvino_export"):
        again = exported_model(transformer, example, int8_weights=False, cache_dir=cache_dir)
    assert again == first and again.stat().st_mtime_ns == written
    assert "from cache" in caplog.text
    before = weights_digest(transformer)
    with torch.no_grad():
        next(transformer.parameters()).add_(1e-3)
    assert weights_digest(transformer) != before
    retrained = exported_model(transformer, example, int8_weights=False, cache_dir=cache_dir)
    assert retrained != first and retrained.is_file()
    assert not list((cache_dir / "openvino").glob(".*")), "a staging folder was left behind"


def test_backend_choice_follows_the_device() -> None:
    assert resolve_backend("auto", "cpu") == "openvino"
    assert resolve_backend("auto", "cuda:0") == "torch"
    assert resolve_backend("openvino-int8", "cpu") == "openvino-int8"
    with pytest.raises(ValueError, match="STYLE_BACKEND=openvino runs on the CPU"):
        resolve_backend("openvino", "cuda")


def test_an_unknown_backend_stops_start_up_naming_the_choices(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from services.style.settings import StyleSettings

    with pytest.raises(ValidationError, match="openvino-int8"):
        StyleSettings(books_dir=tmp_path, backend="onnx")  # type: ignore[arg-type]
