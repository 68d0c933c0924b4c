"""The policy's own stories as a contrast class of the style profiles (`STYLE_POLICY_TEXTS`).

Books tell an author from other authors; a GRPO policy is rewarded on what *it* writes, which
is neither. Measured before this class existed: 11-17% of the base policy's stories for
held-out Twain-topic prompts scored above 0.5 against the Twain profile (`stylegrpo
eval-authorship --policy-texts ... --no-policy-negatives`, three held-out draws). The stories
(`stylegrpo data policy-samples`, or any completions file with `completion` or `text` and
`prompt`) are cut into windows like scored texts, and each window is grouped by its prompt: the
held-out fits behind calibration and stacking hold out whole prompts, so no fit scores a story
whose prompt it trained on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from services.style.encoding.windows import Tokenizer, split_windows
from services.style.profiles.book_windows import SampledWindow
from shared.author_names import blank_names
from shared.json_lines import json_lines
from shared.typography import normalised_text

POLICY_AUTHOR = "policy-samples"


@dataclass(frozen=True)
class PolicyText:
    """One story the policy wrote, and the prompt it wrote it for."""

    prompt: str
    text: str


def read_policy_texts(paths: list[Path]) -> list[PolicyText]:
    """Every record of the JSONL files: its `completion` (or `text`) and its `prompt`."""
    texts = []
    for path in paths:
        for number, record in json_lines(path):
            text = (
                record.get("completion", record.get("text")) if isinstance(record, dict) else None
            )
            prompt = record.get("prompt") if isinstance(record, dict) else None
            if not isinstance(text, str) or not isinstance(prompt, str):
                raise ValueError(
                    f"{path}:{number}: a policy text needs a string `completion` (or `text`) and "
                    "a string `prompt`"
                )
            if text.strip():
                texts.append(PolicyText(prompt=prompt, text=text))
    return texts


def prompt_group(prompt: str) -> str:
    """The group (title) of a prompt's windows: one per distinct prompt.

    >>> prompt_group("Tell a tale.") == prompt_group("Tell a tale."), prompt_group("x")[:15]
    (True, 'policy-samples#')
    """
    return f"{POLICY_AUTHOR}#{hashlib.sha256(prompt.encode()).hexdigest()[:12]}"


def policy_windows(
    texts: list[PolicyText],
    tokenizer: Tokenizer,
    *,
    window_tokens: int,
    overlap_tokens: int,
    names: re.Pattern[str] | None,
    typography: bool,
) -> list[SampledWindow]:
    """Every window of every story, as the scorer would cut it, grouped by prompt."""
    windows = []
    for policy_text in texts:
        text = policy_text.text if names is None else blank_names(policy_text.text, names)
        text = normalised_text(text) if typography else text
        split = split_windows(
            text, tokenizer, window_tokens=window_tokens, overlap_tokens=overlap_tokens
        )
        group = prompt_group(policy_text.prompt)
        windows += [
            SampledWindow(POLICY_AUTHOR, group, text[w.start : w.end]) for w in split.windows
        ]
    return windows


def windows_fingerprint(windows: list[SampledWindow]) -> str:
    """A hash of the windows' groups and texts: changes whenever the policy texts do."""
    digest = hashlib.sha256()
    for window in windows:
        digest.update(f"{window.title}\0{window.text}\0".encode())
    return digest.hexdigest()
