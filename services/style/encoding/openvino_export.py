"""Export a sentence-transformer's transformer to OpenVINO IR once, and cache it on disk.

The export goes straight from the loaded PyTorch module (`openvino.convert_model`), with no
optimum in between, so it holds with any transformers release the trainer needs. The cache key
is a digest of the weights themselves, so a retrained model at the same path exports afresh.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from torch.jit._trace import TracerWarning

log = logging.getLogger(__name__)
EXPORT_FORMAT = 1
MODEL_FILE = "encoder.xml"


def weights_digest(module: torch.nn.Module) -> str:
    """sha256 of every parameter and buffer (names, shapes, dtypes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}\0{tuple(data.shape)}\0{data.dtype}\0".encode())
        digest.update(data.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def exported_model(
    transformer: torch.nn.Module,
    example: dict[str, torch.Tensor],
    *,
    int8_weights: bool,
    cache_dir: Path,
) -> Path:
    """Path of the IR of `transformer` (int8 weights when asked), exporting it on a cache miss.

    `example` is a tokenized batch whose keys are the model's inputs; shapes stay dynamic.
    """
    import openvino

    variant = "int8-weights" if int8_weights else "f32"
    key = hashlib.sha256(
        f"{EXPORT_FORMAT}\0{openvino.__version__}\0{variant}\0{sorted(example)}\0"
        f"{weights_digest(transformer)}".encode()
    ).hexdigest()[:24]
    folder = cache_dir / "openvino" / f"{variant}-{key}"
    if (folder / MODEL_FILE).is_file():
        log.info("OpenVINO encoder from cache %s", folder)
        return folder / MODEL_FILE
    log.info("exporting the encoder to OpenVINO (%s) into %s", variant, folder)
    # The IR's first output is the last hidden state (the token embeddings). Tracing freezes
    # two branches on the example's shapes (no extra mask padding, not causal), which hold for
    # every tokenized batch: the mask always spans the batch and encoders are bidirectional.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        model = openvino.convert_model(transformer, example_input=example)
    if int8_weights:
        import nncf

        model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the cache and renamed into place: a crash leaves no half-written model.
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        openvino.save_model(model, staging / MODEL_FILE, compress_to_fp16=False)
        staging.rename(folder)
    except OSError:
        if not (folder / MODEL_FILE).is_file():  # not another process's finished export
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / MODEL_FILE
