"""Judge prompts of one GRPO group share everything before the story: vLLM's prefix cache
(`--enable-prefix-caching` in compose.yaml) computes the rubric and the prompt once per group."""

from __future__ import annotations

import os

import pytest

from services.judge.backends.model_source import load_tokenizer, resolve_judge_model
from services.judge.prompting import render_prompt
from services.judge.rubrics import builtin_rubrics

PROMPT = "Write a story about a boy who finds a raft on the river."
STORIES = [
    "Tom found the raft at dawn, tangled in the willows below the ferry landing. THE END.",
    "Nobody in the village believed the raft was real until the flood took the mill. THE END.",
]


def shared_prefix(a: list[int], b: list[int]) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


@pytest.mark.slow
@pytest.mark.parametrize("rubric_name", sorted(builtin_rubrics()))
def test_a_groups_judge_prompts_share_all_but_the_story(rubric_name: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source, gguf, _ = resolve_judge_model(None)
    tokenizer = load_tokenizer(source, gguf)
    rubric = builtin_rubrics()[rubric_name]
    prompts = [render_prompt(tokenizer, rubric, PROMPT, s, max_tokens=2048)[0] for s in STORIES]
    ids = [tokenizer(p.text, add_special_tokens=False)["input_ids"] for p in prompts]
    before_story = tokenizer(prompts[0].text[: prompts[0].story_start], add_special_tokens=False)
    common = shared_prefix(*ids)
    # Everything up to the story is shared (the last token may merge with the story's first).
    assert common >= len(before_story["input_ids"]) - 1
    assert common / len(ids[0]) > 0.5, "the rubric should be most of a short story's prompt"
