"""Render a rubric's judge prompt with a model's chat template, fitting the story to its context."""

from __future__ import annotations

from typing import Any

from services.judge.rubrics import JudgePrompt, Rubric

STORY_SENTINEL = "\x00STORY\x00"
TRUNCATION_MARK = "\n[...]\n"


def render_prompt(
    tokenizer: Any, rubric: Rubric, prompt: str, story: str, *, max_tokens: int
) -> tuple[JudgePrompt, int]:
    """The chat-formatted judge prompt and how many story tokens were cut to fit `max_tokens`.

    A story too long for the context loses tokens from its middle, never its ending: the ending
    is where `THE END.`, resolution and truncation live.
    """
    template = _template(tokenizer, rubric, prompt)
    overhead = len(
        tokenizer(template.replace(STORY_SENTINEL, ""), add_special_tokens=False)["input_ids"]
    )
    budget = max_tokens - overhead - 1  # one position left for the answer
    if budget < 16:
        raise ValueError(f"the judge's context ({max_tokens} tokens) leaves no room for a story")
    offsets = tokenizer(story, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    cut = max(0, len(offsets) - budget)
    if cut:
        budget -= len(tokenizer(TRUNCATION_MARK, add_special_tokens=False)["input_ids"])
        head = budget // 3
        tail_start = offsets[len(offsets) - (budget - head)][0]
        story = story[: offsets[head][0]] + TRUNCATION_MARK + story[tail_start:]
    before, after = template.split(STORY_SENTINEL)
    text = before + story + after
    return JudgePrompt(text=text, story_start=len(before), story_end=len(before) + len(story)), cut


def _template(tokenizer: Any, rubric: Rubric, prompt: str) -> str:
    user = rubric.user.replace("{prompt}", prompt).replace("{story}", STORY_SENTINEL)
    messages = [{"role": "system", "content": rubric.system}, {"role": "user", "content": user}]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return str(rendered) + rubric.answer_prefix


def story_token_indices(tokenizer: Any, prompt: JudgePrompt) -> tuple[list[int], list[int]]:
    """The prompt's token ids, and the indices of the tokens that start inside the story.

    The first token is never counted: nothing precedes it to predict it from.
    """
    encoding = tokenizer(prompt.text, add_special_tokens=False, return_offsets_mapping=True)
    story = [
        i
        for i, (start, _) in enumerate(encoding["offset_mapping"])
        if prompt.story_start <= start < prompt.story_end and i > 0
    ]
    return list(encoding["input_ids"]), story
