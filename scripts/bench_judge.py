"""Expected-score judging against generate-then-parse, on the same model, prompts and texts.

  expected score   one forward pass per story: the probability of every score token at the
                   answer position (plus the story's log-likelihood, for fluency)
  constrained      greedy generation of one token restricted to the score tokens (the
                   original's decoding), parsed
  free + parse     greedy generation of up to 16 tokens, the first score token parsed out
Reports texts/s of each (median of rounds), how often parsing found no score, how many distinct
values each gives (a GRPO group needs a spread), and the Spearman rank agreement of the two.
Texts: passages from the corpus books and scrambled copies of them.
Usage: python scripts/bench_judge.py --corpus ../shared/corpus [--texts 12 --words 80]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

from services.judge.backends.transformers_backend import TransformersJudge
from services.judge.expected_score import expected_score
from services.judge.fluency import calibration_passages, scramble
from services.judge.prompting import render_prompt
from services.judge.rubrics import JudgePrompt, Rubric, builtin_rubrics

PROMPT = "Write a short passage in the style of a classic author."
FREE_TOKENS = 16


def main() -> None:
    """Judge the same texts both ways, in alternating rounds, and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=12, help="passages (as many scrambled)")
    parser.add_argument("--rubric", default="narrative-v1")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    books = args.corpus / "books"
    if not books.is_dir():
        sys.exit(f"no books at {books}: pass --corpus pointing at a folder with books/")
    passages = calibration_passages(books, args.texts)
    texts = passages + [scramble(p, seed=i) for i, p in enumerate(passages)]
    rubric = builtin_rubrics()[args.rubric]
    judge = TransformersJudge(None, device="cpu", dtype="float32", max_tokens=2048)
    judge.load()
    prompts = [
        render_prompt(judge.tokenizer, rubric, PROMPT, text, max_tokens=judge.max_tokens)[0]
        for text in texts
    ]
    print(
        f"{len(texts)} texts ({len(passages)} passages + scrambled copies), {judge.name}, "
        f"rubric {rubric.key}, torch threads {torch.get_num_threads()}"
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
    for round_index in range(args.rounds):
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
