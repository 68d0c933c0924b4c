"""The style service trained against the base policy's own stories: the embedded SmolLM2's
stories for some plots are its contrast; stories for other plots, never seen, score lower than
against a service without them, and `/info` reports the class."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
from services.launcher import wait_ready
from services.style.settings import StyleSettings
from shared.schemas import InfoResponse
from tests.conftest import MODEL_READY_TIMEOUT_S
from trainer.common.policy_model import EMBEDDED_POLICY
from trainer.data.policy_samples import PolicySampling, build_policy_samples
from trainer.evaluation.generation import SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator

pytestmark = pytest.mark.slow
TRAINING_PLOTS = 16
HELD_OUT_PLOTS = 4


@pytest.fixture(scope="module")
def policy_stories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """(file of stories for the first plots, stories for plots after them), sampled from the
    embedded SmolLM2-135M-Instruct as GRPO samples it."""
    folder = tmp_path_factory.mktemp("policy")
    settings = PolicySampling(
        count=2,
        limit=TRAINING_PLOTS + HELD_OUT_PLOTS,
        sampling=SamplingSettings(max_new_tokens=160),
    )
    generator = TransformersGenerator(
        EMBEDDED_POLICY, settings.sampling, batch_size=20, cache_dir=folder
    )
    records = build_policy_samples(generator, settings, folder / "all.jsonl")
    training = [r for r in records if r["row"] < TRAINING_PLOTS]
    held_out = [r["completion"] for r in records if r["row"] >= TRAINING_PLOTS]
    path = folder / "training.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in training), encoding="utf-8")
    return path, held_out


@pytest.fixture(scope="module")
def policy_style_url(
    style_settings: StyleSettings,
    policy_stories: tuple[Path, list[str]],
    run_asgi_session: Callable[[Any], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    from services.style.scorer import StyleScorer

    settings = style_settings.model_copy(
        update={
            "policy_texts": [policy_stories[0]],
            "cache_dir": tmp_path_factory.mktemp("policy-style-cache"),
        }
    )
    url = run_asgi_session(create_app(settings=settings, scorer=StyleScorer(settings)))
    wait_ready(url, MODEL_READY_TIMEOUT_S)
    return url


def scores(url: str, texts: list[str]) -> list[float]:
    response = httpx.post(f"{url}/score", json={"texts": texts}, timeout=300)
    assert response.status_code == 200, response.text
    values: list[float] = response.json()["scores"]
    return values


def test_info_reports_the_policy_class(policy_style_url: str) -> None:
    info = InfoResponse.model_validate(httpx.get(f"{policy_style_url}/info").json()).scorer
    assert info["policy_texts"]["texts"] == 2 * TRAINING_PLOTS
    assert info["policy_texts"]["prompts"] == TRAINING_PLOTS
    assert info["policy_texts"]["windows"] >= 2 * TRAINING_PLOTS
    twain = info["classifier"]["mark-twain"]
    assert twain["n_policy"] == info["policy_texts"]["windows"]
    assert twain["policy_auc"] > 0.9


def test_stories_for_unseen_prompts_score_lower_with_the_policy_class(
    policy_style_url: str,
    style_url: str,
    policy_stories: tuple[Path, list[str]],
    twain_passages: list[str],
) -> None:
    held_out = policy_stories[1]
    twain = [" ".join(p.split()[:300]) for p in twain_passages]
    with_class = scores(policy_style_url, held_out + twain)
    without = scores(style_url, held_out)
    stories, author = with_class[: len(held_out)], with_class[len(held_out) :]
    assert sum(stories) / len(stories) < sum(without) / len(without), (stories, without)
    assert max(stories) < 0.5 < min(author), (stories, author)
