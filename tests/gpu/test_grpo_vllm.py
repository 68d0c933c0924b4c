"""Two GRPO steps on one GPU with vLLM colocated in the training process for generation."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainer.grpo.completions_log import COMPLETIONS_LOG

pytestmark = [pytest.mark.gpu, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
STEPS = 2
RUN_LIMIT_S = 900


def test_two_grpo_steps_with_colocated_vllm(
    tmp_path: Path, serve_completeness: Callable[[], tuple[str, Any]]
) -> None:
    if importlib.util.find_spec("vllm") is None:
        pytest.skip("`vllm` is not installed here: `pip install vllm` for GRPO's vLLM generation")
    url, faults = serve_completeness()
    run_dir = tmp_path / "run"
    rewards = [{"name": "completeness", "url": url, "weight": 1.0}]
    overrides = {
        "model": "embedded:smollm2-135m-instruct", "run_dir": str(run_dir), "preflight": "false",
        "rewards": json.dumps(rewards), "grpo.max_steps": str(STEPS),
        "grpo.per_device_train_batch_size": "4", "grpo.num_generations": "4",
        "grpo.max_completion_length": "32", "grpo.save_steps": str(STEPS),
        "grpo.logging_steps": "1", "grpo.use_vllm": "true", "grpo.vllm_mode": "colocate",
        "grpo.vllm_gpu_memory_utilization": "0.3",
    }  # fmt: skip
    flags = [part for key, value in overrides.items() for part in (f"--{key}", value)]
    # A subprocess: colocated vLLM sets up torch.distributed, which must not outlive the test.
    done = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "train", "grpo",
         "--config", str(ROOT / "configs" / "grpo_cpu_smoke.yaml"), *flags],
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
        timeout=RUN_LIMIT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = json.loads(
        (run_dir / "checkpoints" / f"checkpoint-{STEPS}" / "trainer_state.json").read_text()
    )
    assert state["global_step"] == STEPS
    lines = [json.loads(line) for line in (run_dir / COMPLETIONS_LOG).open(encoding="utf-8")]
    assert Counter(line["step"] for line in lines) == {1: 4, 2: 4}
    assert all(isinstance(line["rewards"]["completeness"], float) for line in lines)
    assert faults.requests == STEPS
    assert (run_dir / "final" / "config.json").is_file()
