"""The judge behind an OpenAI-compatible completions API (a `vllm serve` of the judge model).

One `/v1/completions` call per story, with the rendered prompt, `max_tokens=1` and `echo=true`.
The echoed prompt's token log-probabilities give fluency (the story's tokens are found with the
local tokenizer, which tokenizes exactly as the server does), and vLLM's `logprob_token_ids`
returns the log-probability of every score token at the answer position, whether or not it is
among the top 20 a server otherwise lists (`return_tokens_as_token_ids` keeps the keys
unambiguous). The prompt is rendered here with the model's own tokenizer, so both backends send
the judge exactly the same text; against the transformers backend on the same float32 weights,
score-token log-probabilities agree within 5e-5 and a story's mean log-likelihood within 1e-5.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.judge.backends.base import JudgeOutput
from services.judge.backends.model_source import load_tokenizer, resolve_judge_model
from services.judge.prompting import story_token_indices
from services.judge.rubrics import JudgePrompt
from services.judge.settings import JudgeSettings
from shared.http import InvalidResponseError, RetryingHTTP

TOKEN_ID_PREFIX = "token_id:"


class OpenAIJudge:
    """Judges through `/v1/completions` of an OpenAI-compatible server, a bounded few at a time."""

    def __init__(self, settings: JudgeSettings) -> None:
        assert settings.openai_url and settings.openai_model
        self._source, self._gguf, _ = resolve_judge_model(settings.model)
        self._served_model = settings.openai_model
        self._max_tokens = settings.max_context_tokens
        self._http = RetryingHTTP(
            settings.openai_url,
            headers={"Authorization": f"Bearer {settings.openai_api_key}"}
            if settings.openai_api_key
            else {},
            connect_timeout=10,
            read_timeout=settings.openai_timeout_s,
            max_retries=3,
            backoff_base=0.5,
            backoff_max=30,
        )
        self._concurrency = settings.openai_concurrency
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        """The served model's name."""
        return self._served_model

    @property
    def tokenizer(self) -> Any:
        """The judge model's tokenizer, loaded locally to render prompts."""
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        """The configured judge context (the server's max model length must allow it)."""
        return self._max_tokens

    def load(self) -> None:
        """Load the tokenizer; the server is checked by the first request."""
        self._tokenizer = load_tokenizer(self._source, self._gguf)

    async def evaluate(
        self, prompts: list[JudgePrompt], score_tokens: list[str]
    ) -> list[JudgeOutput]:
        """Judge every prompt, at most `openai_concurrency` requests in flight."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(prompt: JudgePrompt) -> JudgeOutput:
            async with gate:
                return await self._evaluate(prompt, score_tokens)

        return list(await asyncio.gather(*(one(p) for p in prompts)))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _evaluate(self, prompt: JudgePrompt, score_tokens: list[str]) -> JudgeOutput:
        ids = {int(self._tokenizer.convert_tokens_to_ids(t)): t for t in score_tokens}
        body = {
            "model": self._served_model,
            "prompt": prompt.text,
            "max_tokens": 1,
            "temperature": 0,
            "echo": True,
            "logprobs": 1,
            "logprob_token_ids": sorted(ids),
            "return_tokens_as_token_ids": True,
        }
        response = await self._http.request("POST", "/v1/completions", body)
        try:
            logprobs = response.json()["choices"][0]["logprobs"]
            token_logprobs: list[float | None] = logprobs["token_logprobs"]
            answer = {
                ids[int(key.removeprefix(TOKEN_ID_PREFIX))]: float(value)
                for key, value in logprobs["top_logprobs"][-1].items()
                if key.startswith(TOKEN_ID_PREFIX) and int(key.removeprefix(TOKEN_ID_PREFIX)) in ids
            }
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InvalidResponseError(
                f"{response.request.url} gave no echoed logprobs ({exc!r}); the judge needs a "
                "server with vLLM's completions API (`echo`, `logprobs`, `logprob_token_ids`)",
                url=str(response.request.url),
                status=response.status_code,
            ) from None
        token_ids, indices = story_token_indices(self._tokenizer, prompt)
        if len(token_logprobs) != len(token_ids) + 1:
            raise InvalidResponseError(
                f"{response.request.url} echoed {len(token_logprobs) - 1} prompt tokens where the "
                f"judge's tokenizer makes {len(token_ids)}: JUDGE_MODEL must name the tokenizer of "
                f"the served model {self._served_model!r}",
                url=str(response.request.url),
                status=response.status_code,
            )
        story = [lp for i in indices if (lp := token_logprobs[i]) is not None]
        return JudgeOutput(
            score_logprobs=answer,
            story_logprob=sum(story) / len(story) if story else 0.0,
            story_tokens=len(story),
        )
