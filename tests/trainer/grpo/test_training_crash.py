"""A GRPO run killed with SIGKILL mid-step resumes from its last checkpoint, losing nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.app import create_app
from services.launcher import wait_ready
from trainer.common.metrics_log import METRICS_LOG
from trainer.grpo.completions_log import COMPLETIONS_LOG

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
STEPS = 4
WAIT_S = 90


class HoldingService:
    """ASGI wrapper counting `/score` requests; the one numbered `hold_at` is held open until
    `release` is set, so the test knows which step the trainer is in when it kills it."""

    def __init__(self, app: ASGIApp, hold_at: int) -> None:
        self.app, self.hold_at = app, hold_at
        self.requests = 0
        self.held = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/score":
            self.requests += 1
            if self.requests == self.hold_at:
                self.held.set()
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
        await self.app(scope, receive, send)


CONFIG = ROOT / "configs" / "grpo_cpu_smoke.yaml"


def overrides(run_dir: Path, policy: Path, url: str, resume: bool, steps: int) -> list[str]:
    """The command-line overrides of the smoke config: tiny policy, completeness alone."""
    rewards = [{"name": "completeness", "url": url, "weight": 1.0, "max_retries": 0}]
    values = {
        "model": str(policy), "run_dir": str(run_dir), "preflight": "false",
        "resume": str(resume).lower(), "rewards": json.dumps(rewards),
        "grpo.max_steps": str(steps), "grpo.per_device_train_batch_size": "2",
        "grpo.num_generations": "2", "grpo.max_completion_length": "8",
        "grpo.save_steps": "1", "grpo.save_total_limit": "2", "grpo.logging_steps": "1",
    }  # fmt: skip
    return [part for key, value in values.items() for part in (f"--{key}", value)]


def command(run_dir: Path, policy: Path, url: str, resume: bool) -> list[str]:
    flags = overrides(run_dir, policy, url, resume, STEPS)
    return [sys.executable, "-m", "stylegrpo", "train", "grpo", "--config", str(CONFIG), *flags]


def records(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON-lines log, parsed: a torn line fails the test here."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert process.poll() is None, f"training exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S}s"
        time.sleep(0.05)


def test_sigkill_mid_step_then_resume_continues_from_the_last_checkpoint(
    tmp_path: Path, tiny_policy: Path, run_asgi: Callable[[Any], str]
) -> None:
    from services.completeness.service import build_completeness_service

    settings, scorer = build_completeness_service()
    service = HoldingService(create_app(settings=settings, scorer=scorer), hold_at=2)
    url = run_asgi(service)
    wait_ready(url, 30)
    run_dir = tmp_path / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}
    output = (tmp_path / "first.out").open("wb")
    first = subprocess.Popen(
        command(run_dir, tiny_policy, url, resume=False),
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(service.held.is_set, first, "second step's reward request")
        state = run_dir / "checkpoints" / "checkpoint-1" / "trainer_state.json"
        wait_for(state.is_file, first, "first checkpoint")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        service.release.set()
        if first.poll() is None:
            first.kill()
        output.close()
    assert first.returncode == -signal.SIGKILL
    assert not (run_dir / "checkpoints" / "checkpoint-2" / "trainer_state.json").exists()
    before = (run_dir / COMPLETIONS_LOG).read_text(encoding="utf-8")
    assert [r["step"] for r in records(run_dir / COMPLETIONS_LOG)] == [1, 1]
    # A kill during the append leaves a torn last line: the resumed run must drop it.
    with (run_dir / COMPLETIONS_LOG).open("a", encoding="utf-8") as log:
        log.write('{"step": 2, "prompt": "Write a sto')

    # A kill while saving leaves a checkpoint folder without its trainer state: not resumable.
    torn = run_dir / "checkpoints" / "checkpoint-2"
    torn.mkdir()
    weights = (run_dir / "checkpoints" / "checkpoint-1" / "model.safetensors").read_bytes()
    (torn / "model.safetensors").write_bytes(weights[: len(weights) // 2])

    requests_before = service.requests
    second = subprocess.run(
        command(run_dir, tiny_policy, url, resume=True),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    train_log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert "checkpoint-1 (step 1)" in train_log, "resumed from the checkpoint of step 1"
    assert service.requests - requests_before == STEPS - 1, "only steps 2 to 4 are done again"
    final_state = json.loads(
        (run_dir / "checkpoints" / f"checkpoint-{STEPS}" / "trainer_state.json").read_text()
    )
    assert final_state["global_step"] == STEPS

    completions = records(run_dir / COMPLETIONS_LOG)
    assert Counter(r["step"] for r in completions) == {s: 2 for s in range(1, STEPS + 1)}
    assert (run_dir / COMPLETIONS_LOG).read_text(encoding="utf-8").startswith(before)
    metrics = records(run_dir / METRICS_LOG)
    assert [m["step"] for m in metrics if "reward" in m] == list(range(1, STEPS + 1))


def test_resume_without_a_checkpoint_starts_afresh_and_drops_the_old_lines(
    tmp_path: Path, tiny_policy: Path, serve_completeness: Callable[[], tuple[str, Any]]
) -> None:
    from trainer.grpo.config import load_config
    from trainer.grpo.training import train

    url, _ = serve_completeness()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # What a run killed during its first step leaves behind: lines but no checkpoint.
    stale = json.dumps({"step": 1, "prompt": "stale", "completion": "stale", "rewards": {}})
    (run_dir / COMPLETIONS_LOG).write_text(f"{stale}\n{stale}\n", encoding="utf-8")
    (run_dir / METRICS_LOG).write_text('{"step": 1, "reward": 0.0}\n', encoding="utf-8")
    train(load_config(CONFIG, overrides(run_dir, tiny_policy, url, resume=True, steps=1)))
    completions = records(run_dir / COMPLETIONS_LOG)
    assert [r["step"] for r in completions] == [1, 1]
    assert "stale" not in (run_dir / COMPLETIONS_LOG).read_text(encoding="utf-8")
    assert [m["step"] for m in records(run_dir / METRICS_LOG) if "reward" in m] == [1]
