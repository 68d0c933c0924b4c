"""Generation through an OpenAI-compatible server (`vllm serve`): `/v1/chat/completions`, a
bounded number of requests in flight, each completion reported as soon as it arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from shared.http import RetryingHTTP, RewardServiceError
from trainer.evaluation.generation import Completion, Job, SamplingSettings, job_seed


class GenerationServerError(RuntimeError):
    """The generation server is unreachable, does not serve the model, or answered off-contract."""


class OpenAIChatGenerator:
    """Chat completions of `model` (the server's name for it) from the server at `url`."""

    def __init__(
        self,
        url: str,
        model: str,
        sampling: SamplingSettings,
        *,
        concurrency: int,
        api_key: str | None = None,
        timeout_s: float = 1800.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 (got {concurrency})")
        # Accept the server's root or its /v1 base, as OpenAI clients are configured either way.
        self.url = url.rstrip("/").removesuffix("/v1")
        self.model = model
        self.sampling = sampling
        self.concurrency = concurrency
        self._http = RetryingHTTP(
            self.url,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            connect_timeout=10,
            read_timeout=timeout_s,
            max_retries=3,
            backoff_base=0.5,
            backoff_max=30,
        )

    def describe(self) -> dict[str, str]:
        """Backend and served model, as saved beside the completions (a server that moved to
        another address still serves the same completions)."""
        return {"backend": "openai", "model": self.model}

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        """Request every job, `concurrency` at a time; fail naming the server on any error."""
        asyncio.run(self._generate(jobs, on_done))

    async def _generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        try:
            await self._check_model()
            gate = asyncio.Semaphore(self.concurrency)

            async def one(job: Job) -> None:
                async with gate:
                    on_done(await self._complete(job))

            await asyncio.gather(*(one(job) for job in jobs))
        except RewardServiceError as exc:
            raise GenerationServerError(f"generation server {self.url}: {exc}") from None
        finally:
            await self._http.aclose()

    async def _check_model(self) -> None:
        answer = await self._http.request("GET", "/v1/models")
        served = [m.get("id") for m in _json(answer.text, self.url).get("data", [])]
        if self.model not in served:
            raise GenerationServerError(
                f"the server at {self.url} does not serve {self.model!r}; it serves {served}. "
                "Pass one of those as --model (vLLM's --served-model-name)"
            )

    async def _complete(self, job: Job) -> Completion:
        sampling = self.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": job.messages,
            "max_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            # vLLM's sampling extensions of the OpenAI API.
            "top_k": sampling.top_k,
            "min_p": sampling.min_p,
            "repetition_penalty": sampling.repetition_penalty,
            "seed": job_seed(sampling.seed, job),
        }
        answer = _json(
            (await self._http.request("POST", "/v1/chat/completions", body)).text, self.url
        )
        try:
            choice = answer["choices"][0]
            text = str(choice["message"]["content"] or "")
            tokens = int(answer["usage"]["completion_tokens"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise GenerationServerError(
                f"{self.url}/v1/chat/completions answered without choices[0].message.content and "
                f"usage.completion_tokens: {json.dumps(answer)[:300]}"
            ) from None
        return Completion(
            row=job.row,
            sample=job.sample,
            text=text,
            tokens=tokens,
            truncated=choice.get("finish_reason") == "length",
        )


def _json(text: str, url: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise GenerationServerError(
            f"{url} answered with a body that is not JSON: {text[:200]!r}"
        ) from None
    if not isinstance(value, dict):
        raise GenerationServerError(
            f"{url} answered with JSON that is not an object: {text[:200]!r}"
        )
    return value
