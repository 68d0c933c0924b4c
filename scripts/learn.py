"""`make learn`: teach SmolLM2-135M-Instruct Mark Twain's voice on 2 CPU cores, then measure it.

Usage: python scripts/learn.py --corpus ../shared/corpus [--out runs/learn] [--steps N]

1. prompts: the built-in plots, split by plot; 12 are held out and never trained on
   (`OUT/prompts/{train,test}.jsonl`);
2. the base model's stories for the *training* plots, which the style service learns as a
   contrast class of their own (`OUT/policy-samples.jsonl`);
3. the three reward services as separate processes, configured for ~200-word stories
   (logs in `OUT/logs/`);
4. GRPO (`configs/grpo_learn_cpu.yaml`, run directory `OUT/grpo`, its report in `OUT/grpo/report`);
5. `stylegrpo eval` of the base and the trained model on the held-out plots, same sampling and
   seeds: each measure's means, their difference and its 95% bootstrap interval
   (`OUT/eval/results/results.md`);
6. the table, the held-out and training figures and the first three held-out prompts' stories
   side by side, copied to `--docs` (`docs/learn/`, which the README shows).

Every stage resumes: a rerun reuses the prompts and the samples, continues GRPO from its last
checkpoint, and generates only the evaluation stories still missing.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from services.launcher import ServiceStartError, running_service
from trainer.config import load_config
from trainer.data.policy_samples import PolicySampling, build_policy_samples
from trainer.evaluation.generation import SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator
from trainer.evaluation.run import EvaluationSetup, ModelToEvaluate, evaluate
from trainer.grpo import train
from trainer.learning_recipe import (
    CONFIG,
    SERVICES,
    grpo_sampling,
    publish,
    reward_curve,
    service_env,
    write_prompts,
)
from trainer.policy_model import EMBEDDED_POLICY

CACHE = Path.home() / ".cache" / "stylegrpo"
POLICY_STORIES_PER_PLOT = 3
EVAL_STORIES_PER_PLOT = 4


def main() -> None:
    """Run every stage, resuming whatever an earlier run finished."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("runs/learn"))
    parser.add_argument(
        "--docs", type=Path, default=Path("docs/learn"), help="where the results are published"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help=f"GRPO steps (default: {CONFIG}'s max_steps)"
    )
    parser.add_argument(
        "--style-temperature",
        type=float,
        default=4.0,
        help="STYLE_SCORE_TEMPERATURE: divides each window's log-odds, so that the base "
        "model's stories, all far from the author, still differ in style reward",
    )
    args = parser.parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: point --corpus at a folder with books/AUTHOR--TITLE.txt")
    prompts = write_prompts(args.out / "prompts", load_config(CONFIG, []))
    overrides = ["--run_dir", str(args.out / "grpo"), "--resume", "true"]
    overrides += ["--prompts_file", str(prompts), "--monitor.books_dir", str(books)]
    if args.steps is not None:
        overrides += ["--grpo.max_steps", str(args.steps)]
    config = load_config(CONFIG, overrides)
    sampling = grpo_sampling(config)
    samples = policy_samples(args.out, sampling)
    env = service_env(args.corpus, samples, args.style_temperature)
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"starting the reward services (logs: {logs}/) ...", flush=True)
    try:
        with ExitStack() as stack:
            for spec in config.rewards:
                service = SERVICES[spec.name]
                spec.url = stack.enter_context(
                    running_service(service, env, log_path=logs / f"{service}.log")
                )
            print("ready: " + ", ".join(f"{s.name} {s.url}" for s in config.rewards), flush=True)
            steps = config.grpo["max_steps"]
            print(f"GRPO: {steps} steps (run directory {config.run_dir})", flush=True)
            final = train(config)  # a finished run's last checkpoint is copied, not trained on
            curve = reward_curve(config)
            print(
                "mean weighted reward, by blocks of 8 steps: "
                + ", ".join(f"steps ..{step}: {mean:.3f}" for step, mean in curve.items()),
                flush=True,
            )
            results = evaluate(
                [
                    ModelToEvaluate("base", EMBEDDED_POLICY, sampling),
                    ModelToEvaluate("trained", str(final), sampling),
                ],
                EvaluationSetup(
                    prompts=prompts.parent,
                    out=args.out / "eval",
                    rewards=config.rewards,
                    books=books,
                    author="mark-twain",
                    num_samples=EVAL_STORIES_PER_PLOT,
                    cache_dir=CACHE,
                ),
            )
    except ServiceStartError as exc:
        sys.exit(f"error: {exc}")
    print((results / "results.md").read_text(encoding="utf-8"))
    published = publish(args.out, ("base", "trained"), args.docs)
    print(f"published {len(published)} files to {args.docs}/")
    print(f"results: {results}\ntraining report: {config.run_dir / 'report' / 'report.html'}")


def policy_samples(out: Path, sampling: SamplingSettings) -> Path:
    """The base model's stories for the training plots (generated once, then reused)."""
    path = out / "policy-samples.jsonl"
    settings = PolicySampling(
        prompts=out / "prompts", split="train", count=POLICY_STORIES_PER_PLOT, sampling=sampling
    )
    print(f"the base model's stories for the training plots: {path}", flush=True)
    generator = TransformersGenerator(EMBEDDED_POLICY, sampling, batch_size=16, cache_dir=CACHE)
    build_policy_samples(generator, settings, path)
    return path


if __name__ == "__main__":
    main()
