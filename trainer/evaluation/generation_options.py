"""Command-line options of the commands that generate (`stylegrpo eval`, `data policy-samples`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SAMPLING = "Sampling (defaults: the original's GRPO sampling)"
CACHE_DIR = Path.home() / ".cache" / "stylegrpo"

BatchSize = Annotated[
    int, typer.Option(min=1, help="Prompts per transformers batch, or requests in flight.")
]
VllmUrl = Annotated[
    str | None, typer.Option(help="Generate through this OpenAI-compatible server (vLLM) instead.")
]
VllmApiKey = Annotated[
    str | None,
    typer.Option(envvar="STYLEGRPO_VLLM_API_KEY", help="API key of that server (its --api-key)."),
]
ModelCacheDir = Annotated[Path, typer.Option(help="Where the embedded model is exported.")]
SamplingInt = Annotated[int, typer.Option(rich_help_panel=SAMPLING)]
SamplingFloat = Annotated[float, typer.Option(rich_help_panel=SAMPLING)]
