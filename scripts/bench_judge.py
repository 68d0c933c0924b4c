"""The embedded judge measured two ways: its scoring methods, and its precisions.

--part methods: expected-score judging against generate-then-parse, on the same model, prompts
and texts (book passages and scrambled copies of them):
  expected score   one forward pass per story: the probability of every score token at the
                   answer position (plus the story's log-likelihood, for fluency)
  constrained      greedy generation of one token restricted to the score tokens (the
                   original's decoding), parsed
  free + parse     greedy generation of up to 16 tokens, the first score token parsed out
Reports texts/s of each (median of rounds), how often parsing found no score, how many distinct
values each gives (a GRPO group needs a spread), and the Spearman rank agreement of the two.

--part precision: a judge service per precision (`JUDGE_DTYPE` float32 and bfloat16, each its own
process as deployed: a process that has run bfloat16 on AMX runs float32 ~15% slower after), on
a GRPO batch of the base policy's own writing (4 prompts x 4 stories of 300
and of 1,500 words, glued from `stylegrpo data policy-samples` stories, cache off): texts/s of
each (median of rounds) and how far bfloat16's scores are from float32's (max and mean).
Usage: python scripts/bench_judge.py --corpus ../shared/corpus [--part methods|precision|all]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import torch
from benchmarking import interleaved_rounds
from demo import policy_samples
from scipy.stats import spearmanr

from services.judge.backends.transformers_backend import TransformersJudge, resolve_dtype
from services.judge.expected_score import expected_score
from services.judge.fluency import calibration_passages, scramble
from services.judge.prompting import render_prompt
from services.judge.rubrics import JudgePrompt, Rubric, builtin_rubrics
from services.launcher import running_service
from shared.client import RewardClient
from shared.cpu import native_bf16
from shared.schemas import ScoreRequest, ScoreResponse

PROMPT = "Write a short passage in the style of a classic author."
FREE_TOKENS = 16
GROUPS, GROUP_SIZE = 4, 4  # the learning recipe's step: 4 prompts x 4 stories


def main() -> None:
    """Run the parts asked for, each printing its own table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--part", choices=["methods", "precision", "all"], default="all")
    parser.add_argument("--texts", type=int, default=12, help="passages (as many scrambled)")
    parser.add_argument("--rubric", default="narrative-v1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--policy-samples",
        type=Path,
        default=None,
        help="JSONL of the base policy's stories (prompt, completion); unset = the demo's, "
        "sampled on first use",
    )
    parser.add_argument(
        "--precisions",
        default="float32,bfloat16",
        help="JUDGE_DTYPE values, comma-separated; the first is the reference",
    )
    parser.add_argument("--words", default="300,1500", help="story lengths, comma-separated")
    args = parser.parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    print(
        f"CPU: {cpu_model()}, native bfloat16: {native_bf16()}, torch threads "
        f"{torch.get_num_threads()}",
        flush=True,
    )
    if args.part in ("methods", "all"):
        compare_methods(books, args.texts, builtin_rubrics()[args.rubric], args.rounds)
    if args.part in ("precision", "all"):
        samples = args.policy_samples or policy_samples()
        precisions = args.precisions.split(",")
        words = [int(w) for w in args.words.split(",")]
        compare_precisions(samples, args.rubric, args.rounds, precisions, words)


def compare_methods(books: Path, count: int, rubric: Rubric, rounds: int) -> None:
    """Judge the same texts three ways, in alternating rounds, and print the comparison."""
    passages = calibration_passages(books, count)
    texts = passages + [scramble(p, seed=i) for i, p in enumerate(passages)]
    judge = TransformersJudge(None, device="cpu", dtype="float32", max_tokens=2048)
    judge.load()
    prompts = [
        render_prompt(judge.tokenizer, rubric, PROMPT, text, max_tokens=judge.max_tokens)[0]
        for text in texts
    ]
    print(
        f"{len(texts)} texts ({len(passages)} passages + scrambled copies), {judge.name}, "
        f"rubric {rubric.key}"
    )
    phases = {
        "expected score": lambda: [
            expected_score(o.score_logprobs, rubric.scores).expected
            for o in asyncio.run(judge.evaluate(prompts, rubric.scores))
        ],
        "constrained": lambda: [generate_and_parse(judge, p, rubric, 1, True) for p in prompts],
        "free + parse": lambda: [
            generate_and_parse(judge, p, rubric, FREE_TOKENS, False) for p in prompts
        ],
    }
    rates: dict[str, list[float]] = {name: [] for name in phases}
    results: dict[str, list[float | None]] = {}
    for round_index in range(rounds):
        for name, run in phases.items():
            started = time.perf_counter()
            results[name] = run()
            rates[name].append(len(texts) / (time.perf_counter() - started))
        summary = ", ".join(f"{k} {v[-1]:.2f}" for k, v in rates.items())
        print(f"round {round_index + 1}: {summary}", flush=True)
    print("\ntexts/s (median)")
    baseline = statistics.median(rates["expected score"])
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"  {name:16s} {rate:6.2f}  ({baseline / rate:.2f}x the expected score's time/text)")
    expected = results["expected score"]
    for name in ("constrained", "free + parse"):
        pairs = [(e, p) for e, p in zip(expected, results[name], strict=True) if p is not None]
        parsed = {p for _, p in pairs}
        rho = (
            f"{spearmanr([e for e, _ in pairs], [p for _, p in pairs]).statistic:.3f}"
            if len(pairs) > 2 and len(parsed) > 1
            else "undefined (fewer than two distinct parsed scores)"
        )
        print(
            f"{name}: no score in {len(texts) - len(pairs)} of {len(texts)} texts, "
            f"{len(parsed)} distinct values (expected score: "
            f"{len({round(e or 0, 6) for e in expected})}); Spearman vs expected: {rho}"
        )


def compare_precisions(
    samples: Path, rubric: str, rounds: int, precisions: list[str], story_words: list[int]
) -> None:
    """A judge service per precision (its own process, as deployed), on GRPO batches of the
    policy's writing: texts/s and how far each precision's scores are from the first's."""
    logs = Path(tempfile.gettempdir())
    env = {"JUDGE_RUBRIC": rubric, "JUDGE_CACHE_SIZE": "0"}
    with ExitStack() as stack:
        urls = {
            dtype: stack.enter_context(
                running_service(
                    "judge",
                    {**env, "JUDGE_DTYPE": dtype},
                    log_path=logs / f"stylegrpo-bench-judge-{dtype}.log",
                )
            )
            for dtype in precisions
        }
        print(
            f"\njudge services by precision (auto on this CPU: {resolve_dtype('auto', 'cpu')}), "
            f"{rounds} rounds, cache off"
        )
        asyncio.run(_compare_precisions(urls, samples, rounds, story_words))


async def _compare_precisions(
    urls: dict[str, str], samples: Path, rounds: int, story_words: list[int]
) -> None:
    clients = {dtype: RewardClient(url, read_timeout=1800) for dtype, url in urls.items()}
    reference_dtype = next(iter(urls))
    print(
        f"| stories | precision | texts/s | x {reference_dtype} | score moved (max / mean) | "
        "rubric score moved (max) | story log-likelihood moved (max, nats/token) |"
    )
    print("|---|---|---|---|---|---|---|")
    for words in story_words:
        request = grpo_batch(samples, words)
        results: dict[str, ScoreResponse] = {}
        phases = {
            dtype: functools.partial(score_into, results, dtype, client, request)
            for dtype, client in clients.items()
        }
        for warm_up in phases.values():
            await warm_up()
        rates = await interleaved_rounds(phases, rounds=rounds, items=len(request.texts))
        baseline = statistics.median(rates[reference_dtype])
        reference = results[reference_dtype]
        for dtype in urls:
            rate, scored = statistics.median(rates[dtype]), results[dtype]
            moved = [abs(a - b) for a, b in zip(scored.scores, reference.scores, strict=True)]
            pairs = list(zip(scored.details or [], reference.details or [], strict=True))
            rubric_moved = max(abs(a["rubric_score"] - b["rubric_score"]) for a, b in pairs)
            logprob_moved = max(abs(a["story_logprob"] - b["story_logprob"]) for a, b in pairs)
            print(
                f"| {len(request.texts)} x {words} words | {dtype} | {rate:.2f} | "
                f"{rate / baseline:.2f} | {max(moved):.4f} / {statistics.mean(moved):.4f} | "
                f"{rubric_moved:.4f} | {logprob_moved:.4f} |",
                flush=True,
            )
    for client in clients.values():
        await client.aclose()


async def score_into(
    results: dict[str, ScoreResponse], key: str, client: RewardClient, request: ScoreRequest
) -> None:
    """Score `request` and keep the answer under `key`."""
    results[key] = await client.score(
        request.texts, prompts=request.prompts, details=request.details
    )


def grpo_batch(samples: Path, words: int) -> ScoreRequest:
    """4 prompts x 4 stories of `words` words: each story glued from the policy's stories."""
    rows = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    if not rows:
        sys.exit(f"no policy stories in {samples}")
    prompts = list(dict.fromkeys(row["prompt"] for row in rows))[:GROUPS]
    texts, next_row = [], 0
    for _ in range(len(prompts) * GROUP_SIZE):
        story: list[str] = []
        while len(story) < words:
            story += rows[next_row % len(rows)]["completion"].split()
            next_row += 1
        texts.append(" ".join(story[:words]) + "\n\nTHE END.")
    return ScoreRequest(
        texts=texts, prompts=[p for p in prompts for _ in range(GROUP_SIZE)], details=True
    )


def cpu_model() -> str:
    """The CPU's model name, as lscpu shows it."""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def generate_and_parse(
    judge: TransformersJudge, prompt: JudgePrompt, rubric: Rubric, tokens: int, constrained: bool
) -> float | None:
    """The rubric score the model writes greedily, rescaled to 0..1, or None if it wrote none."""
    model, tokenizer = judge.model, judge.tokenizer
    ids = tokenizer(prompt.text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    allowed = [int(tokenizer.convert_tokens_to_ids(s)) for s in rubric.scores]
    with torch.inference_mode():
        output = model.generate(
            ids.to(model.device),
            max_new_tokens=tokens,
            do_sample=False,
            pad_token_id=tokenizer.eos_token_id,
            prefix_allowed_tokens_fn=(lambda *_: allowed) if constrained else None,
        )
    answer = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    pattern = "|".join(re.escape(s) for s in sorted(rubric.scores, key=len, reverse=True))
    match = re.search(pattern, answer)
    if match is None:
        return None
    low, high = min(rubric.values), max(rubric.values)
    return (float(match.group(0)) - low) / (high - low)


if __name__ == "__main__":
    main()
