"""GRPO's stories from a vLLM server that loads the trainer's weights through the disk.

The checks on a real vLLM server are opt-in (STYLEGRPO_VLLM=1; CI sets it), like the judge's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from fastapi import FastAPI
from safetensors.torch import load_file

from trainer.common.config_loading import ConfigError
from trainer.grpo.config import load_config
from trainer.grpo.server_rollout import (
    RolloutServerError,
    ServerRollout,
    serving_copy,
    write_untied_weights,
)
from trainer.grpo.training import COMPLETIONS_LOG, server_rollout, train

PROMPT = [{"role": "user", "content": "Write a story about a raft on the river."}]


def fake_trainer(model: Any, step: int, **sampling: Any) -> Any:
    """What the rollout reads of TRL's trainer: the step, the sampling arguments, the model."""
    args = {
        "seed": 0, "max_completion_length": 12, "temperature": 1.0, "top_p": 1.0, "top_k": 0,
        "min_p": None, "repetition_penalty": 1.0, "generation_kwargs": None, **sampling,
    }  # fmt: skip
    return SimpleNamespace(
        state=SimpleNamespace(global_step=step),
        args=SimpleNamespace(**args),
        model=model,
        accelerator=SimpleNamespace(unwrap_model=lambda m: m),
    )


def test_the_serving_copy_unties_the_head_and_computes_the_same_logits(
    tmp_path: Path, tiny_policy: Path
) -> None:
    from transformers import AutoModelForCausalLM

    copy = serving_copy(tiny_policy, tmp_path / "served")
    assert json.loads((copy / "config.json").read_text())["tie_word_embeddings"] is False
    weights = load_file(copy / "model.safetensors")
    assert torch.equal(weights["lm_head.weight"], weights["model.embed_tokens.weight"])
    assert (copy / "tokenizer.json").is_file()
    tokens = torch.tensor([[1, 200, 300, 400, 500]])
    with torch.no_grad():
        original = AutoModelForCausalLM.from_pretrained(tiny_policy)(tokens).logits
        served = AutoModelForCausalLM.from_pretrained(copy)(tokens).logits
    assert torch.allclose(original, served, atol=1e-6)


def test_untied_weights_are_written_whole_and_atomically(tmp_path: Path) -> None:
    shared = torch.arange(6.0).reshape(2, 3)
    path = write_untied_weights({"a.weight": shared, "b.weight": shared}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    written = load_file(path)
    assert torch.equal(written["a.weight"], shared) and torch.equal(written["b.weight"], shared)


def test_a_server_without_the_weight_endpoints_is_named_with_the_setting_it_lacks(
    tmp_path: Path, tiny_policy: Path, run_asgi: Callable[[Any], str]
) -> None:
    from transformers import AutoModelForCausalLM

    url = run_asgi(FastAPI())  # answers 404 to everything, as vLLM without dev mode does here
    rollout = ServerRollout(url, "policy", tmp_path / "weights")
    model = AutoModelForCausalLM.from_pretrained(tiny_policy)
    with pytest.raises(RolloutServerError, match="VLLM_SERVER_DEV_MODE=1"):
        rollout([PROMPT, PROMPT], fake_trainer(model, step=0))
    assert (tmp_path / "weights" / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--grpo.use_vllm", "true"], "both choose the generator"),
        (["--lora.enabled", "true"], "lora.enabled"),
    ],
)
def test_the_server_rollout_refuses_settings_it_cannot_serve(
    overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["--rollout_server.url", "http://127.0.0.1:8000", *overrides])


def test_plain_text_prompts_are_refused_before_any_weights_are_written(tmp_path: Path) -> None:
    rollout = ServerRollout("http://127.0.0.1:9", "policy", tmp_path / "weights")
    with pytest.raises(RolloutServerError, match="conversational prompts"):
        rollout(["Write a story."], fake_trainer(model=None, step=0))
    assert not (tmp_path / "weights").exists()


def test_the_server_rollout_refuses_a_multi_process_launch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    config = load_config(None, ["--rollout_server.url", "http://127.0.0.1:8000"])
    with pytest.raises(ConfigError, match="one training process"):
        server_rollout(config)


def test_an_unset_api_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLLOUT_KEY_FOR_TEST", raising=False)
    config = load_config(
        None,
        [
            "--rollout_server.url", "http://127.0.0.1:8000",
            "--rollout_server.api_key_env", "ROLLOUT_KEY_FOR_TEST",
        ],
    )  # fmt: skip
    with pytest.raises(ConfigError, match="ROLLOUT_KEY_FOR_TEST, which is not set"):
        server_rollout(config)


def test_a_rollout_server_url_needs_a_scheme() -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        load_config(None, ["--rollout_server.url", "127.0.0.1:8000"])


def greedy_tokens(model: Any, tokens: list[int], count: int) -> list[int]:
    """`count` greedy tokens of `model` after `tokens`, in transformers."""
    with torch.no_grad():
        out = model.generate(
            torch.tensor([tokens]), max_new_tokens=count, min_new_tokens=count, do_sample=False
        )
    return [int(t) for t in out[0, len(tokens) :]]


@pytest.mark.slow
@pytest.mark.vllm
def test_the_server_samples_from_the_weights_the_trainer_holds_now(
    tmp_path: Path, vllm_policy: Path, rollout_url: str
) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(vllm_policy)
    rollout = ServerRollout(rollout_url, "policy", tmp_path / "weights")
    for step in (0, 1):
        if step == 1:  # a step of training: every weight moves, the tied head with them
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(torch.randn_like(parameter) * 0.05)
        # top-k 1 samples the greedy token (vLLM refuses n > 1 at temperature 0).
        out = rollout(
            [PROMPT] * 3, fake_trainer(model, step=step, top_k=1, max_completion_length=8)
        )
        assert len(out["completion_ids"]) == 3 and len(out["prompt_ids"]) == 3
        assert out["completion_ids"][0] == out["completion_ids"][1] == out["completion_ids"][2]
        expected = greedy_tokens(model, out["prompt_ids"][0], len(out["completion_ids"][0]))
        assert out["completion_ids"][0] == expected, f"step {step}"
        assert len(out["logprobs"][0]) == len(out["completion_ids"][0])


@pytest.mark.slow
@pytest.mark.vllm
def test_grpo_trains_on_the_servers_stories(
    tmp_path: Path,
    vllm_policy: Path,
    rollout_url: str,
    style_url_for_random_policy: str,
) -> None:
    run_dir = tmp_path / "run"
    overrides = {
        "model": str(vllm_policy), "run_dir": str(run_dir), "preflight": "false",
        "rollout_server.url": rollout_url,
        "rewards": json.dumps([{
            "name": "style", "url": style_url_for_random_policy, "weight": 1.0,
        }]),
        "grpo.max_steps": "2", "grpo.per_device_train_batch_size": "4",
        "grpo.num_generations": "2", "grpo.max_completion_length": "10",
        "grpo.temperature": "1.5", "grpo.save_steps": "1", "grpo.logging_steps": "1",
        "grpo.report_to": "none", "grpo.learning_rate": "1e-3",
    }  # fmt: skip
    final = train(load_config(None, [p for k, v in overrides.items() for p in (f"--{k}", v)]))

    lines = [json.loads(line) for line in (run_dir / COMPLETIONS_LOG).read_text().splitlines()]
    assert [line["step"] for line in lines] == [1] * 4 + [2] * 4
    before = load_file(vllm_policy / "model.safetensors")
    after = load_file(final / "model.safetensors")
    assert any(not torch.equal(before[name], after[name]) for name in before)
    log = (run_dir / "train.log").read_text()
    assert log.count("generation server loaded the policy's weights") == 2, "once a step"
    timed = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    timed = [m for m in timed if "time/step" in m]
    assert [m["step"] for m in timed] == [1, 2]
    for m in timed:
        assert 0 < m["time/generation/weights"] < m["time/generation"] < m["time/step"]
