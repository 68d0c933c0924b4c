"""Export the embedded SmolLM2-135M-Instruct judge/policy to a plain safetensors folder.

    .venv/bin/python scripts/export_smollm2.py OUTDIR

A rerun with a complete export in OUTDIR does nothing. vLLM serves the folder (see
scripts/VLLM_CPU_NOTES.md); transformers loads it as a LlamaForCausalLM.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trainer.common.policy_model import export_embedded_smollm2

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"exported to {export_embedded_smollm2(Path(sys.argv[1]))}")
