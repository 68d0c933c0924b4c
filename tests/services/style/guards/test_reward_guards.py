"""The style score's guards on crafted attacks: names and dialect words sprinkled into foreign
prose buy (almost) no style, and text that is not prose scores nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import numpy as np
import pytest

from services.style.classifier.stuffing import STUFFING_EVERY_WORDS, stuff
from shared.author_names import load_author_names

pytestmark = pytest.mark.slow

# What a stuffer would reach for first: Twain's dialect, river and famous names.
DIALECT = [
    "ain't", "warn't", "reckon", "yonder", "considerable", "powerful", "nohow", "hain't", "'em",
    "kinder", "dasn't", "mighty", "a-going", "feller", "git", "lonesome", "ornery", "by and by",
    "says I", "I reckon", "Jim", "Mississippi", "St. Petersburg", "raft",
]  # fmt: skip
# The stated bound: stuffing every ~15 words raises the mean score of LLM prose by at most this.
MAX_MEAN_RISE = 0.05
PASSAGE_WORDS = 300


def score(url: str, texts: list[str], **fields: object) -> httpx.Response:
    response = httpx.post(f"{url}/score", json={"texts": texts, **fields}, timeout=600)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def llm_passages(negative_texts: list[Path]) -> list[str]:
    """Twelve ~300-word passages of generic LLM-written paragraphs."""
    if not negative_texts:
        pytest.skip("no LLM prose: set STYLEGRPO_NEGATIVE_TEXTS to a .jsonl of paragraphs")
    lines = negative_texts[0].read_text(encoding="utf-8").splitlines()
    paragraphs = [json.loads(line)["text"] for line in lines[-200:] if line.strip()]
    passages, current = [], []
    for paragraph in paragraphs:
        current.append(paragraph)
        if len(" ".join(current).split()) >= PASSAGE_WORDS:
            passages.append("\n\n".join(current))
            current = []
    return passages[:12]


def test_names_are_blanked_so_they_change_no_score(style_url: str, llm_passages: list[str]) -> None:
    names = load_author_names()["mark-twain"].all
    rng = random.Random(0)
    named = [stuff(p, names, rng, every=STUFFING_EVERY_WORDS) for p in llm_passages[:4]]
    plain = score(style_url, llm_passages[:4]).json()["scores"]
    body = score(style_url, named, details=True).json()
    assert body["scores"] == pytest.approx(plain, abs=1e-4)
    window = body["details"][0]["windows"][-1]
    assert window["end"] <= len(named[0]) and named[0][window["start"] : window["end"]].strip()


def test_stuffed_prose_stays_below_the_authors_held_out_writing(
    style_url: str, llm_passages: list[str], twain_passages: list[str]
) -> None:
    rng = random.Random(1)
    markers = [*DIALECT, *load_author_names()["mark-twain"].all]
    stuffed = [stuff(p, markers, rng, every=STUFFING_EVERY_WORDS) for p in llm_passages]
    twain = [" ".join(p.split()[:PASSAGE_WORDS]) for p in twain_passages]
    scores = score(style_url, twain + llm_passages + stuffed).json()["scores"]
    own = np.array(scores[: len(twain)])
    plain = np.array(scores[len(twain) : len(twain) + len(llm_passages)])
    attacked = np.array(scores[len(twain) + len(llm_passages) :])
    assert own.min() > attacked.max(), (own, attacked)
    assert (attacked - plain).mean() <= MAX_MEAN_RISE, attacked - plain


def test_text_that_is_not_prose_scores_nothing(style_url: str, twain_passages: list[str]) -> None:
    rng = random.Random(2)
    held_out = " ".join(twain_passages[0].split()[:PASSAGE_WORDS])
    words = held_out.split()
    attacks = [
        " ".join(rng.sample(words, len(words))),  # the author's own words, shuffled
        "reckon " * PASSAGE_WORDS,
        "... !!! ??? ,,, ;;; " * 40,
        " ".join(f"{rng.choice('bcdfghjklmnpqrstvwz')}{rng.choice('aeiou')}xq" for _ in words),
    ]
    body = score(style_url, [held_out, *attacks], details=True).json()
    own = body["details"][0]
    assert own["prose_factor"] == 1.0 and own["known_ngram_fraction"] > 0.3
    assert body["scores"][0] > 0.5
    for attack, value, details in zip(
        attacks, body["scores"][1:], body["details"][1:], strict=True
    ):
        assert details["known_ngram_fraction"] < 0.15, attack[:60]
        assert value <= 0.5 * body["scores"][0] * details["prose_factor"] + 1e-9
        assert details["prose_factor"] < 0.4, (attack[:60], details)


def test_looping_lists_score_little_and_the_authors_writing_keeps_its_score(
    style_url: str, twain_passages: list[str]
) -> None:
    """What GRPO's policy learnt to write: a sentence, then the same pairs of words looping."""
    held_out = [" ".join(p.split()[:PASSAGE_WORDS]) for p in twain_passages]
    adjectives = ["beautiful", "exquisite", "splendid", "magnificent", "noble", "wonderful"]
    looping = ", ".join(f"and the most {adjectives[i % 6]}" for i in range(60))
    attack = " ".join(held_out[0].split()[:40]) + " " + looping
    body = score(style_url, [*held_out, attack], details=True).json()
    for details in body["details"][:-1]:
        assert details["repetition_factor"] == 1.0, details["repeated_bigram_fraction"]
    attacked = body["details"][-1]
    assert attacked["repeated_bigram_fraction"] > 0.6 and attacked["repetition_factor"] == 0.0
    assert body["scores"][-1] == 0.0


def test_every_cut_is_explained_in_words_and_a_clean_text_has_none(
    style_url: str, profile_books: Path, twain_passages: list[str]
) -> None:
    """Pasting a profile book's opening, a one-word text and a looping list each say why they
    score little; the author's unseen writing scores with no reason given."""
    huck = (profile_books / "mark-twain--adventures-of-huckleberry-finn.txt").read_text()
    opening = " ".join(huck.split()[2000:2300])
    adjectives = ["beautiful", "exquisite", "splendid", "magnificent", "noble", "wonderful"]
    looping = (
        " ".join(twain_passages[1].split()[:40])
        + " "
        + ", ".join(f"and the most {adjectives[i % 6]}" for i in range(60))
    )
    clean = " ".join(twain_passages[0].split()[:PASSAGE_WORDS])
    body = score(style_url, [opening, "Hello.", looping, clean], details=True).json()
    copied, hello, loop, own = (details["reasons"] for details in body["details"])

    assert body["details"][0]["copied_from"] == "adventures-of-huckleberry-finn"
    assert copied[0].startswith("copied: ") and "adventures-of-huckleberry-finn" in copied[0]
    assert "multiplied by 0.00" in copied[0] and body["scores"][0] == 0.0
    assert any(r.startswith("too little text: 1 word;") for r in hello), hello
    assert any(r.startswith("repetitive: ") for r in loop), loop
    assert own == [] and body["scores"][3] > 0.5
