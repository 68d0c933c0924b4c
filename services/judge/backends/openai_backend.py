"""The judge behind an OpenAI-compatible completions API (a `vllm serve` of the judge model).

One `/v1/completions` call per story, with the rendered prompt, `max_tokens=1`, `echo=true` and
`logprobs=K`: the echoed prompt's token log-probabilities give fluency (the tokens whose text
offsets fall in the story), and the top-K alternatives of the one generated token give the score
distribution. Score tokens outside the top K count as probability zero, which loses at most the
mass the server did not list. The prompt is rendered here with the model's own tokenizer, so
both backends send the judge exactly the same text.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.judge.backends.base import JudgeOutput
from services.judge.backends.model_source import load_tokenizer, resolve_judge_model
from services.judge.rubrics import JudgePrompt
from services.judge.settings import JudgeSettings
from shared.http import InvalidResponseError, RetryingHTTP

TOP_LOGPROBS = 20  # vLLM's default `max_logprobs`


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
        body = {
            "model": self._served_model,
            "prompt": prompt.text,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": TOP_LOGPROBS,
            "echo": True,
        }
        response = await self._http.request("POST", "/v1/completions", body)
        try:
            logprobs = response.json()["choices"][0]["logprobs"]
            offsets: list[int] = logprobs["text_offset"]
            token_logprobs: list[float | None] = logprobs["token_logprobs"]
            answer: dict[str, float] = logprobs["top_logprobs"][-1]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InvalidResponseError(
                f"{response.request.url} gave no echoed logprobs ({exc!r}); the judge needs a "
                "server that supports `echo` with `logprobs` on /v1/completions (vLLM does)",
                url=str(response.request.url),
                status=response.status_code,
            ) from None
        story = [
            lp
            for offset, lp in zip(offsets[:-1], token_logprobs[:-1], strict=True)
            if prompt.story_start <= offset < prompt.story_end and lp is not None
        ]
        return JudgeOutput(
            score_logprobs={t: answer[t] for t in score_tokens if t in answer},
            story_logprob=sum(story) / len(story) if story else 0.0,
            story_tokens=len(story),
        )
