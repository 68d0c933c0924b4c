"""What runs a sentence-transformer's transformer: PyTorch, or an OpenVINO export of it.

A runtime maps tokenized batches to token embeddings (float32, on the pooling modules' device);
the pooling and normalisation after the transformer stay the model's own PyTorch modules, so
every runtime feeds them the same thing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

log = logging.getLogger(__name__)
Features = dict[str, torch.Tensor]
# STYLE_PRECISION -> OpenVINO's inference precision hint; `auto` leaves OpenVINO's own choice
# (bf16 on CPUs with bf16 instructions, f32 elsewhere).
OPENVINO_PRECISION = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
TORCH_DTYPE = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class TransformerRuntime(Protocol):
    """Token embeddings of tokenized batches."""

    description: str
    precision: str  # the arithmetic it settled on

    def token_embeddings(
        self, batches: list[Features], on_batch: Callable[[int], None]
    ) -> list[torch.Tensor]:
        """One float32 (batch, tokens, dim) tensor per batch; `on_batch(size)` after each."""
        ...


class TorchRuntime:
    """The transformer module itself, in `dtype` on `device`."""

    def __init__(self, transformer: torch.nn.Module, *, device: str, precision: str) -> None:
        if precision == "auto":
            precision = _cuda_half() if device.startswith("cuda") else "fp32"
        self._transformer = transformer.to(TORCH_DTYPE[precision])
        self._device = device
        self.precision = precision
        self.description = f"torch {precision} on {device}"

    def token_embeddings(
        self, batches: list[Features], on_batch: Callable[[int], None]
    ) -> list[torch.Tensor]:
        """Each batch through the transformer in turn."""
        outputs = []
        with torch.inference_mode():
            for batch in batches:
                features: dict[str, Any] = {k: v.to(self._device) for k, v in batch.items()}
                outputs.append(self._transformer(features)["token_embeddings"].float())
                on_batch(len(batch["input_ids"]))
        return outputs


class OpenVINORuntime:
    """A compiled OpenVINO model on the CPU, run with as many requests in flight as it wants.

    The throughput hint splits the cores into streams that each run a batch; measured here it
    beats one batch on all cores by ~1.2x for MiniLM on two cores. Requests are started and
    waited for from Python with no Python callback: a callback runs on OpenVINO's worker threads
    and needs the GIL, and a compiled model freed (its worker threads joined, GIL held) while
    one of them waits for it deadlocks the process.
    """

    def __init__(self, model_path: Path, *, precision: str, variant: str) -> None:
        import openvino

        config = {"PERFORMANCE_HINT": "THROUGHPUT"}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = OPENVINO_PRECISION[precision]
        self._compiled = openvino.Core().compile_model(str(model_path), "CPU", config)
        self._inputs = [port.get_any_name() for port in self._compiled.inputs]
        in_flight = int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self._requests = [self._compiled.create_infer_request() for _ in range(max(1, in_flight))]
        self._lock = threading.Lock()  # one caller's batches at a time
        self.precision = self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        streams = self._compiled.get_property("NUM_STREAMS")
        self.description = f"openvino {variant} ({self.precision}, {streams} streams) on CPU"

    def token_embeddings(
        self, batches: list[Features], on_batch: Callable[[int], None]
    ) -> list[torch.Tensor]:
        """Batches run `len(requests)` at a time (similar lengths: they are sorted); results in
        batch order."""
        outputs: list[torch.Tensor] = []
        with self._lock:
            for start in range(0, len(batches), len(self._requests)):
                chunk = batches[start : start + len(self._requests)]
                wave = list(zip(self._requests[: len(chunk)], chunk, strict=True))
                for request, batch in wave:
                    request.start_async({name: batch[name].numpy() for name in self._inputs})
                for request, batch in wave:
                    request.wait()
                    outputs.append(torch.from_numpy(np.array(request.get_output_tensor(0).data)))
                    on_batch(len(batch["input_ids"]))
        return outputs


def _cuda_half() -> str:
    """bf16 where the GPU supports it, else fp16."""
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
