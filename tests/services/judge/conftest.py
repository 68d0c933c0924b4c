"""A judge service on the embedded SmolLM2 over real HTTP, and passages to judge."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.common.app import create_app
from services.judge.service import build_judge_service
from services.launcher import wait_ready

READY_TIMEOUT_S = 900
PASSAGE_WORDS = 60


@pytest.fixture(scope="session")
def judge_url(run_asgi_session: Callable[[Any], str]) -> str:
    """The judge with its defaults (embedded model, narrative-v1), ready to score."""
    settings, scorer = build_judge_service(calibration_passages=8, cache_size=256)
    url = run_asgi_session(create_app(settings=settings, scorer=scorer))
    wait_ready(url, READY_TIMEOUT_S)
    return url


@pytest.fixture(scope="session")
def coherent_passages(corpus_books: Path, held_out_books: tuple[str, ...]) -> list[str]:
    """24 passages of about 60 words, whole sentences, from a held-out Twain book."""
    text = (corpus_books / held_out_books[0]).read_text(encoding="utf-8")
    sentences = [" ".join(s.split()) for s in re.findall(r"[^.!?]+[.!?]+[\"'”’)]*", text)]
    passages = []
    for i in range(24):
        start = 100 + i * (len(sentences) - 200) // 24
        chosen: list[str] = []
        for sentence in sentences[start:]:
            chosen.append(sentence)
            if len(" ".join(chosen).split()) >= PASSAGE_WORDS:
                break
        passages.append(" ".join(chosen))
    return passages
