"""Demo: serve the three rewards on a local corpus, score five kinds of text, then train GRPO.

Usage: python scripts/demo.py --corpus ../shared/corpus [--steps 4]
The corpus folder holds `books/AUTHOR--TITLE.txt` and, optionally, generic LLM-written prose
(`llm-generic-paragraphs.jsonl`). Each service runs as its own process, as in production. The
style service learns the policy's own writing as a contrast class: the first run samples
SmolLM2-135M-Instruct's stories for the built-in plot prompts (`stylegrpo data policy-samples`,
a few minutes on 2 CPU cores) into `~/.cache/stylegrpo/demo/`, and later runs reuse them. The
style service's first run embeds samples of every book (about half a minute) and caches them;
the judge loads the embedded SmolLM2-135M-Instruct (about a minute on CPU). The GRPO run
(`configs/grpo_cpu_smoke.yaml`: SmolLM2-135M-Instruct policy, short completions, CPU) writes its
run directory to `runs/demo`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from services.judge.fluency import scramble
from services.launcher import running_service
from shared.child_processes import ServiceStartError
from shared.client import RewardClient
from shared.schemas import ScoreResponse
from shared.score_command import format_style_result
from trainer.common.policy_model import EMBEDDED_POLICY
from trainer.data.policy_samples import PolicySampling, build_policy_samples
from trainer.evaluation.generation import SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator
from trainer.grpo.config import load_config
from trainer.grpo.training import COMPLETIONS_LOG, train

PASSAGE_WORDS = 400
END = "\n\nTHE END."
PROMPT = "Write a story in the style of Mark Twain."
SERVICES = ("style", "judge", "completeness")
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "stylegrpo"
# The base policy's stories the style service learns as a contrast: two per built-in plot.
POLICY_SAMPLING = PolicySampling(count=2, sampling=SamplingSettings(max_new_tokens=192))


def main() -> None:
    """Start the services, score the samples with each, print a table and the style details."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=4, help="GRPO steps (0: score only)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/demo"))
    args = parser.parse_args()
    corpus = args.corpus
    books = corpus / "books"
    if not books.is_dir():
        sys.exit(
            f"no books at {books}: point --corpus (make demo CORPUS=...) at a folder with "
            "books/AUTHOR--TITLE.txt files"
        )
    samples, held_out = build_samples(books, corpus / "llm-generic-paragraphs.jsonl")
    profile_books = Path(tempfile.mkdtemp(prefix="stylegrpo-demo-books-"))
    for book in sorted(books.glob("*--*.txt")):
        if book not in held_out:  # the sample passages come from books the profiles never saw
            (profile_books / book.name).symlink_to(book.resolve())
    env = {
        "STYLE_BOOKS_DIR": str(profile_books),
        "STYLE_LOG_LEVEL": "warning",
        "JUDGE_LOG_LEVEL": "warning",
        "COMPLETENESS_LOG_LEVEL": "warning",
    }
    negatives = corpus / "llm-generic-paragraphs.jsonl"
    if negatives.is_file():
        env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    env["STYLE_POLICY_TEXTS"] = str(policy_samples())
    logs = Path(tempfile.gettempdir())
    print(f"starting {', '.join(SERVICES)} (logs: {logs}/stylegrpo-demo-*.log) ...", flush=True)
    try:
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, profile_books, True)
            urls = {
                name: stack.enter_context(
                    running_service(name, env, log_path=logs / f"stylegrpo-demo-{name}.log")
                )
                for name in SERVICES
            }
            print("ready: " + ", ".join(f"{n} {u}" for n, u in urls.items()) + "\n", flush=True)
            responses = asyncio.run(score_everywhere(urls, list(samples.values())))
            print_scores(samples, responses)
            if args.steps > 0:
                run_grpo(urls, args.steps, args.run_dir)
    except ServiceStartError as exc:
        sys.exit(f"error: {exc}")


def policy_samples() -> Path:
    """The base policy's stories for the built-in plots, sampled once and reused after."""
    out = CACHE / "demo" / "smollm2-policy-samples.jsonl"
    stories = len(out.read_text(encoding="utf-8").splitlines()) if out.is_file() else 0
    print(f"policy samples for the style service: {out} ({stories} stories so far)", flush=True)
    generator = TransformersGenerator(
        EMBEDDED_POLICY, POLICY_SAMPLING.sampling, batch_size=16, cache_dir=CACHE
    )
    build_policy_samples(generator, POLICY_SAMPLING, out)
    return out


def print_scores(samples: dict[str, str], responses: dict[str, ScoreResponse]) -> None:
    """The score table and the style details of the first sample."""
    print(f"{'text':44s} {'style':>6s} {'judge':>6s} {'complete':>8s}")
    for i, label in enumerate(samples):
        row = [responses[name].scores[i] for name in SERVICES]
        print(f"{label:44s} {row[0]:6.3f} {row[1]:6.3f} {row[2]:8.3f}")
    print(
        "\nstyle: 1 = reads like Mark Twain throughout; judge: coherence and rubric (SmolLM2); "
        f"complete: length band, ending, no padding ({PASSAGE_WORDS}-word samples score "
        "below the 1,200-word band)"
    )
    label, text = next(iter(samples.items()))
    style = responses["style"]
    single = style.model_copy(update={"scores": style.scores[:1], "details": style.details[:1]})
    print(f"\n{label}:\n{format_style_result(text, single)}\n", flush=True)


def run_grpo(urls: dict[str, str], steps: int, run_dir: Path) -> None:
    """A short GRPO run of the embedded policy against the running services."""
    overrides = [
        "--run_dir", str(run_dir), "--grpo.max_steps", str(steps),
        "--grpo.save_steps", str(steps), "--rewards.0.url", urls["style"],
        "--rewards.1.url", urls["judge"], "--rewards.2.url", urls["completeness"],
    ]  # fmt: skip
    config = load_config(ROOT / "configs" / "grpo_cpu_smoke.yaml", overrides)
    print(
        f"GRPO: {steps} steps of {config.model} on CPU (run directory {run_dir}). These steps "
        "show the plumbing - generation, three rewards over HTTP, an update, a checkpoint - not "
        "learning: a few steps' mean reward is noise. `make learn` is the run that learns, and "
        "the README's 'Does it learn?' has its last measured table.",
        flush=True,
    )
    final = train(config)
    steps_seen: dict[int, list[float]] = {}
    for line in (run_dir / COMPLETIONS_LOG).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        total = sum(spec.weight * (record["rewards"][spec.name] or 0.0) for spec in config.rewards)
        steps_seen.setdefault(record["step"], []).append(total)
    print(
        "\nmean weighted reward per step: "
        + ", ".join(f"{step}: {sum(v) / len(v):.3f}" for step, v in sorted(steps_seen.items()))
    )
    print(f"final model: {final}\ncompletions with every reward: {run_dir / COMPLETIONS_LOG}")
    print(f"report (plots, best and worst completions): {run_dir / 'report' / 'report.html'}")


def build_samples(books: Path, negatives: Path) -> tuple[dict[str, str], list[Path]]:
    """Five texts that the rewards should tell apart, each ending as a story must, and the two
    books they were taken from (kept out of the style profiles: quoting a profile book is copying,
    which the style service penalises)."""
    twain = next(iter(sorted(books.glob("mark-twain--*.txt"))), None)
    other = next((p for p in sorted(books.glob("*--*.txt")) if "mark-twain" not in p.name), None)
    if twain is None or other is None:
        sys.exit(f"{books} needs books by mark-twain and by at least one other author")
    twain_text = passage(twain)
    samples = {
        f"Twain ({twain.stem.split('--')[1][:28]})": twain_text + END,
        f"{other.stem.split('--')[0]} ({other.stem.split('--')[1][:20]})": passage(other) + END,
        "the Twain passage, scrambled": scramble(twain_text) + END,
        "the Twain passage, cut mid-sentence": twain_text[: len(twain_text) * 2 // 3].rstrip(),
    }
    if negatives.is_file():
        paragraphs = [json.loads(line)["text"] for line in negatives.open(encoding="utf-8")][:3]
        samples["generic LLM-written prose"] = "\n\n".join(paragraphs) + END
    return samples, [twain, other]


def passage(path: Path) -> str:
    """`PASSAGE_WORDS` words from the middle of a book, from a paragraph start."""
    text = path.read_text(encoding="utf-8")
    start = text.find("\n\n", len(text) // 2) + 2
    tokens = re.findall(r"\S+\s*", text[start:])
    chosen = "".join(tokens[:PASSAGE_WORDS])
    end = max(chosen.rfind(". "), chosen.rfind(".\n"))
    return chosen[: end + 1] if end > 0 else chosen


async def score_everywhere(urls: dict[str, str], texts: list[str]) -> dict[str, ScoreResponse]:
    """Each service's scores for the same texts, requested concurrently."""

    async def one(name: str, url: str) -> ScoreResponse:
        async with RewardClient(url, read_timeout=600) as client:
            return await client.score(texts, prompts=[PROMPT] * len(texts), details=True)

    answers = await asyncio.gather(*(one(name, url) for name, url in urls.items()))
    return dict(zip(urls, answers, strict=True))


if __name__ == "__main__":
    main()
