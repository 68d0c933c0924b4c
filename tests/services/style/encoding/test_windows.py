"""Windowing: full coverage, sentence alignment, overlap and a full-length last window."""

from __future__ import annotations

import itertools

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from services.style.encoding.encoder import resolve_model
from services.style.encoding.windows import sentence_starts, split_windows

WINDOW = 64
OVERLAP = 8


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(resolve_model(None)[0])


def story(sentences: int) -> str:
    return " ".join(
        f"Sentence number {i} tells how the raft drifted past the town at night."
        for i in range(sentences)
    )


def test_sentence_starts_find_each_sentence_and_paragraph() -> None:
    text = 'He said "Go!" Then he left.\n\nA new paragraph. And more'
    starts = sentence_starts(text)
    assert [text[s : s + 4] for s in starts] == ["He s", "Then", "A ne", "And "]


def test_windows_cover_every_token_within_the_limit(tokenizer: PreTrainedTokenizerBase) -> None:
    text = story(60)
    split = split_windows(text, tokenizer, window_tokens=WINDOW, overlap_tokens=OVERLAP)
    assert split.coverage == 1.0
    assert len(split.windows) > 5
    assert split.windows[0].start == 0 and split.windows[-1].end == len(text)
    for window in split.windows:
        piece = text[window.start : window.end]
        assert len(tokenizer(piece, add_special_tokens=False)["input_ids"]) <= WINDOW
        assert window.tokens <= WINDOW


def test_windows_start_at_sentences_and_overlap(tokenizer: PreTrainedTokenizerBase) -> None:
    text = story(60)
    windows = split_windows(text, tokenizer, window_tokens=WINDOW, overlap_tokens=20).windows
    starts = set(sentence_starts(text))
    assert all(w.start in starts for w in windows)
    # Sentences here are 14 tokens, so a 20-token overlap repeats the last sentence.
    assert all(b.start < a.end for a, b in itertools.pairwise(windows))


def test_last_window_is_full_length(tokenizer: PreTrainedTokenizerBase) -> None:
    text = story(23)
    windows = split_windows(text, tokenizer, window_tokens=WINDOW, overlap_tokens=OVERLAP).windows
    assert windows[-1].tokens >= WINDOW * 3 // 4


def test_a_sentence_longer_than_a_window_is_cut_at_words(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    text = " ".join(["word"] * 300) + "."
    split = split_windows(text, tokenizer, window_tokens=WINDOW, overlap_tokens=OVERLAP)
    assert split.coverage == 1.0
    assert all(text[w.start] == "w" for w in split.windows)


def test_short_and_empty_texts(tokenizer: PreTrainedTokenizerBase) -> None:
    short = split_windows("Hello there.", tokenizer, window_tokens=WINDOW, overlap_tokens=OVERLAP)
    assert [(w.start, w.end) for w in short.windows] == [(0, 12)]
    empty = split_windows("   ", tokenizer, window_tokens=WINDOW, overlap_tokens=OVERLAP)
    assert empty.windows == [] and empty.coverage == 1.0


def test_overlap_must_be_under_half_a_window(tokenizer: PreTrainedTokenizerBase) -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        split_windows("Some text.", tokenizer, window_tokens=WINDOW, overlap_tokens=WINDOW // 2)
