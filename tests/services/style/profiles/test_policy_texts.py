"""The policy's own stories as a contrast class: read, windowed, grouped by prompt, weighted."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from services.style.classifier.ngrams import fit_ngram_classifier, out_of_fold_decisions
from services.style.profiles.policy_texts import (
    POLICY_AUTHOR,
    PolicyText,
    policy_windows,
    prompt_group,
    read_policy_texts,
)
from services.style.settings import StyleSettings
from shared.settings import SettingsError, load_settings
from tests.services.style.classifier.test_authorship_classifier import RIVER, crafted_books, passage

# What a small instruct model writes when asked for a Twain story: its own stock vocabulary.
POLICY = ["once", "upon", "time", "magical", "journey", "adventure", "heart", "wonder", "little"]


def write_policy_file(path: Path, stories: dict[str, list[str]]) -> Path:
    lines = [
        json.dumps({"row": i, "sample": s, "prompt": prompt, "completion": text})
        for i, (prompt, texts) in enumerate(stories.items())
        for s, text in enumerate(texts)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_policy_texts_are_read_with_their_prompts(tmp_path: Path) -> None:
    path = write_policy_file(tmp_path / "p.jsonl", {"Tell a tale.": ["One.", "Two.", " "]})
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"prompt": "Another.", "text": "Three."}) + "\n")
    texts = read_policy_texts([path])
    # Blank stories are skipped; `text` is read where a record has no `completion`.
    assert texts == [
        PolicyText("Tell a tale.", "One."),
        PolicyText("Tell a tale.", "Two."),
        PolicyText("Another.", "Three."),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", r"p\.jsonl:2: not a JSON line"),
        ('{"completion": "x"}', r"p\.jsonl:2: .*prompt"),
    ],
)
def test_a_bad_policy_record_is_named_by_file_and_line(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = write_policy_file(tmp_path / "p.jsonl", {"Tell a tale.": ["One."]})
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    with pytest.raises(ValueError, match=expected):
        read_policy_texts([path])


def test_a_missing_policy_file_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"STYLE_POLICY_TEXTS: no such file .*nope\.jsonl"):
        load_settings(StyleSettings, books_dir=tmp_path, policy_texts=str(tmp_path / "nope.jsonl"))
    good = write_policy_file(tmp_path / "p.jsonl", {"Tell a tale.": ["One."]})
    settings = load_settings(StyleSettings, books_dir=tmp_path, policy_texts=f"{good},{good}")
    assert settings.policy_texts == [good, good]


@pytest.mark.slow
def test_every_window_of_a_story_is_grouped_under_its_prompt() -> None:
    from services.style.encoding.encoder import WindowEncoder

    tokenizer = WindowEncoder(None, device="cpu", batch_size=4, backend="torch").tokenizer
    long_story = "The \u201craft\u201d drifted\u2014slowly. " * 120
    texts = [PolicyText("A", long_story), PolicyText("B", "Short one."), PolicyText("A", "Yes.")]
    windows = policy_windows(
        texts, tokenizer, window_tokens=256, overlap_tokens=32, names=None, typography=True
    )
    groups = [w.title for w in windows]
    assert {w.author for w in windows} == {POLICY_AUTHOR}
    assert groups.count(prompt_group("B")) == 1
    assert groups.count(prompt_group("A")) == len(windows) - 1 >= 4
    # Learned in the house typography, as scored texts are read.
    assert '"raft" drifted--slowly.' in windows[0].text


def policy_corpus(rng: random.Random) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Crafted books by two authors plus policy stories for four prompts."""
    texts, authors, titles = crafted_books(rng)
    for prompt in range(4):
        for _ in range(10):
            texts.append(passage(POLICY + RIVER[:3], rng))
            authors = np.append(authors, POLICY_AUTHOR)
            titles = np.append(titles, prompt_group(f"prompt {prompt}"))
    return texts, authors, titles


def test_a_story_is_scored_only_by_fits_that_never_saw_its_prompt() -> None:
    """A word that only one prompt's stories use is evidence against the author for a model
    that trained on them; scored out of fold, it is unknown."""
    rng = random.Random(2)
    texts, authors, titles = policy_corpus(rng)
    marker = " ".join(["zyzzyva"] * 60)
    marked = prompt_group("the marked prompt")
    texts += [marker] * 3
    authors = np.append(authors, [POLICY_AUTHOR] * 3)
    titles = np.append(titles, [marked] * 3)
    held_out = out_of_fold_decisions(
        texts, authors, titles, [marker], np.array([marked]), ["river"], folds=3, policy_share=0.4
    )
    seen = fit_ngram_classifier(texts, authors, ["river"], policy_share=0.4)
    assert seen.decision([marker], "river")[0] < -1.0
    assert held_out["river"][0] > seen.decision([marker], "river")[0] + 1.0


def test_the_policy_share_sets_how_much_the_policy_class_weighs() -> None:
    rng = random.Random(3)
    texts, authors, _ = policy_corpus(rng)
    story = [passage(POLICY + RIVER, rng) for _ in range(20)]
    decisions = [
        fit_ngram_classifier(texts, authors, ["river"], policy_share=share).decision(story, "river")
        for share in (0.05, 0.6)
    ]
    assert decisions[1].mean() < decisions[0].mean() - 0.1
