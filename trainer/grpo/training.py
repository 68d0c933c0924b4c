"""GRPO training of a story writer against the three reward services over HTTP (stage 3).

    stylegrpo train grpo --config configs/grpo_cpu_smoke.yaml             # CPU, minutes
    stylegrpo train grpo --config configs/grpo_twain.yaml --resume true   # GPUs, vLLM server
    accelerate launch --config_file configs/accelerate/4gpu_ddp.yaml -m trainer.grpo \\
        --config configs/grpo_twain.yaml                     # also 1gpu.yaml, zero3.yaml

The run directory holds the config as run, `train.log`, the completions log (one JSON line per
completion with every reward, flushed each step), `metrics.jsonl` (TRL's metrics and where each
step's time went, `trainer.grpo.step_profile`), `monitor.jsonl` when the reward-hacking monitor
is on (`trainer.monitor.callback`), `checkpoints/` and the final model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import yaml

from shared.files import replaced_folder
from trainer.common.checkpoints import checkpoint_step, last_complete_checkpoint
from trainer.common.config_loading import ConfigError
from trainer.common.lora import lora_config
from trainer.common.metrics_log import METRICS_LOG, MetricsLogCallback
from trainer.common.policy_model import resolve_policy_model
from trainer.grpo.completions_log import COMPLETIONS_LOG, CompletionsRecorder, drop_lines_after
from trainer.grpo.config import RunConfig
from trainer.grpo.preflight import check_services
from trainer.grpo.prompts import plot_prompts
from trainer.grpo.report import write_report
from trainer.grpo.rewards import build_reward_function
from trainer.grpo.server_rollout import ServerRollout
from trainer.grpo.step_profile import PhaseClock, StepProfileCallback, time_policy_passes
from trainer.monitor.callback import MONITOR_LOG, build_monitor

log = logging.getLogger(__name__)
# What a Trainer checkpoint holds beside the model, for resuming only.
RESUME_ONLY = frozenset(
    {"optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json", "training_args.bin"}
)


def train(config: RunConfig) -> Path:
    """Run GRPO as configured, logged to the run's `train.log`; the final model's folder."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    with _logging_to(config.run_dir / "train.log"):
        return _train(config)


def _train(config: RunConfig) -> Path:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer  # type: ignore[attr-defined]

    run_dir = config.run_dir
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    if config.preflight:
        for line in asyncio.run(check_services(config.rewards)):
            log.info(line)
    checkpoints = run_dir / "checkpoints"
    last = last_complete_checkpoint(checkpoints) if config.resume else None
    if last is not None and 0 < int(config.grpo.get("max_steps", -1)) <= checkpoint_step(last):
        # Resuming a finished run would train one more step: its last checkpoint is the model.
        final = run_dir / "final"
        if _rank() == 0:
            export_checkpoint(last, final)
            write_report(run_dir)
            log.info("%s reached max_steps: the final model is its copy, %s", last.name, final)
        return final
    recorder = CompletionsRecorder(
        run_dir / completions_log_name(), [r.name for r in config.rewards]
    )
    # The steps after the checkpoint (all of them when starting afresh) are done again, so their
    # lines from an earlier, interrupted run must go or they would be logged twice. The metrics
    # and monitor logs are the main process's alone: another rank rewriting them would race.
    step = checkpoint_step(last)
    main_logs = [run_dir / METRICS_LOG, run_dir / MONITOR_LOG] if _rank() == 0 else []
    for log_file in (recorder.path, *main_logs):
        drop_lines_after(log_file, step)
    monitor = build_monitor(config, recorder, main_process=_rank() == 0)
    if last is not None:
        log.info("resuming from %s (step %d)", last, step)
    clock = PhaseClock()
    built = [build_reward_function(spec, recorder, clock) for spec in config.rewards]
    on_cpu = not torch.cuda.is_available()
    arguments: dict[str, Any] = {
        "output_dir": str(checkpoints),
        "reward_weights": [spec.weight for spec in config.rewards],
        **({"use_cpu": True, "bf16": False} if on_cpu else {}),  # `grpo.bf16: true` overrides
        **config.grpo,
    }
    trainer = GRPOTrainer(
        model=resolve_policy_model(config.model, config.cache_dir),
        reward_funcs=[cast(Any, function) for function, _ in built],  # TRL accepts async ones
        args=GRPOConfig(**arguments),
        train_dataset=Dataset.from_list(_prompts(config)),
        peft_config=lora_config(config.lora),
        rollout_func=server_rollout(config, clock),
        # The monitor and the step profile first: they add to the logs the metrics log writes.
        callbacks=[
            *([monitor] if monitor else []),
            StepProfileCallback(clock),
            MetricsLogCallback(run_dir / METRICS_LOG),
        ],
    )
    time_policy_passes(trainer, clock)
    try:
        trainer.train(resume_from_checkpoint=None if last is None else str(last))
        final = run_dir / "final"
        trainer.save_model(str(final))
        report = write_report(run_dir)
    finally:
        recorder.close()
        for _, client in built:
            for url, counts in client.replica_counts().items():
                log.info("%s: %d chunks, %d failed", url, counts.requests, counts.failures)
            asyncio.run_coroutine_threadsafe(client.aclose(), trainer.async_loop).result(timeout=10)
    log.info("done: final model in %s, report %s", final, report)
    return final


def server_rollout(config: RunConfig, clock: PhaseClock | None = None) -> ServerRollout | None:
    """Generation by `config.rollout_server` (None: TRL's own); one process only, since every
    process would load its weights into the same server."""
    settings = config.rollout_server
    if settings.url is None:
        return None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ConfigError(
            "rollout_server serves one training process; a multi-process launch generates "
            "with TRL's vLLM server mode (grpo.use_vllm: true, grpo.vllm_mode: server)"
        )
    api_key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    if settings.api_key_env and not api_key:
        raise ConfigError(
            f"rollout_server.api_key_env names {settings.api_key_env}, which is not set"
        )
    return ServerRollout(
        settings.url,
        settings.model,
        config.run_dir / "rollout-weights",
        api_key=api_key,
        timeout_s=settings.timeout_s,
        clock=clock,
    )


def export_checkpoint(checkpoint: Path, final: Path) -> Path:
    """Copy a checkpoint's model (weights or adapter, config, tokenizer) to `final`, without the
    optimizer, scheduler and RNG states that only a resume needs."""
    with replaced_folder(final) as staging:
        for path in checkpoint.iterdir():
            if path.is_file() and path.name not in RESUME_ONLY and not path.name.startswith("rng_"):
                shutil.copy2(path, staging / path.name)
    return final


def completions_log_name() -> str:
    """`completions.jsonl` on the main process; each other process of a launch logs its own."""
    rank = _rank()
    return COMPLETIONS_LOG if rank == 0 else f"completions.rank{rank}.jsonl"


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _prompts(config: RunConfig) -> list[dict[str, Any]]:
    if config.prompts_file is None:
        return plot_prompts(config.author, config.story_words)
    lines = config.prompts_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """The process's log lines also go to `path` while the block runs (a second run in the same
    process, such as the next round of `make learn`, neither doubles nor inherits them)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
