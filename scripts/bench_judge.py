"""Expected-score judging against generate-then-parse, on the same model, prompts and texts.

  expected score   one forward pass per story: the probability of every score token at the
                   answer position (plus the story's log-likelihood, for fluency)
  generate+parse   greedy generation of up to 8 tokens, the first score digit parsed out
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
NEW_TOKENS = 8


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
    rates: dict[str, list[float]] = {"expected score": [], "generate+parse": []}
    for round_index in range(args.rounds):
        started = time.perf_counter()
        outputs = asyncio.run(judge.evaluate(prompts, rubric.scores))
        rates["expected score"].append(len(texts) / (time.perf_counter() - started))
        started = time.perf_counter()
        parsed = [generate_and_parse(judge, prompt, rubric) for prompt in prompts]
        rates["generate+parse"].append(len(texts) / (time.perf_counter() - started))
        print(
            f"round {round_index + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rates.items())
        )
    expected = [expected_score(o.score_logprobs, rubric.scores).expected for o in outputs]
    found = [(e, p) for e, p in zip(expected, parsed, strict=True) if p is not None]
    rho = (
        spearmanr([e for e, _ in found], [p for _, p in found]).statistic if found else float("nan")
    )
    print("\ntexts/s (median)")
    for name, values in rates.items():
        print(f"  {name:16s} {statistics.median(values):6.2f}")
    ratio = statistics.median(rates["expected score"]) / statistics.median(rates["generate+parse"])
    print(f"expected / generate+parse speed = {ratio:.2f}x")
    print(f"parse found no score in {len(texts) - len(found)} of {len(texts)} texts")
    print(
        f"distinct values: expected {len(set(round(e, 6) for e in expected))}, "
        f"parsed {len(set(p for _, p in found))}"
    )
    print(f"Spearman rank agreement (parsed texts): {rho:.3f}")


def generate_and_parse(
    judge: TransformersJudge, prompt: JudgePrompt, rubric: Rubric
) -> float | None:
    """The rubric score the model writes when sampled greedily, rescaled to 0..1, or None."""
    model, tokenizer = judge.model, judge.tokenizer
    ids = tokenizer(prompt.text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        output = model.generate(
            ids.to(model.device),
            max_new_tokens=NEW_TOKENS,
            do_sample=False,
            pad_token_id=tokenizer.eos_token_id,
        )
    answer = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    match = re.search(
        "|".join(re.escape(s) for s in sorted(rubric.scores, key=len, reverse=True)), answer
    )
    if match is None:
        return None
    low, high = min(rubric.values), max(rubric.values)
    return (float(match.group(0)) - low) / (high - low)


if __name__ == "__main__":
    main()
