"""The judge model in-process with transformers: one forward pass per story, off the event loop.

`dtype="auto"` runs bfloat16 on CUDA and on a CPU that multiplies bfloat16 natively (AMX or
AVX-512 BF16): on an Intel Xeon with AMX it judges 2.3-2.6x (300-word stories) to 2.8x (1,500
words) as many texts a second as float32, with scores within 0.001 of float32's
(`scripts/bench_judge.py --part precision`, docs/performance.md). Elsewhere (an AVX2-only CPU)
bfloat16 is emulated and slower, so `auto` keeps float32.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, cast

from services.judge.backends.base import JudgeOutput
from services.judge.backends.model_source import load_tokenizer, resolve_judge_model
from services.judge.rubrics import JudgePrompt
from shared.cpu import native_bf16

log = logging.getLogger(__name__)

LM_HEAD_CHUNK = 64  # positions per vocabulary projection: bounds memory, keeps logits in cache


class TransformersJudge:
    """A causal LM judging in this process; stories are scored one at a time (no padding)."""

    def __init__(self, model: str | None, *, device: str, dtype: str, max_tokens: int) -> None:
        self._source, self._gguf, self._name = resolve_judge_model(model)
        self._device, self._dtype, self._max_tokens_setting = device, dtype, max_tokens
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The judge model's name."""
        return self._name

    @property
    def model(self) -> Any:
        """The loaded causal LM (None before `load`)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The judge's tokenizer."""
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        """The configured context, never more than the model's."""
        limit = int(
            getattr(self._model.config, "max_position_embeddings", self._max_tokens_setting)
        )
        return min(self._max_tokens_setting, limit)

    def load(self) -> None:
        """Load tokenizer and model (a GGUF file is de-quantised to float32, then cast)."""
        import torch
        from transformers import AutoModelForCausalLM

        device = self._device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = resolve_dtype(self._dtype, device)
        log.info("loading judge %s on %s (%s)", self._name, device, dtype)
        kwargs: dict[str, Any] = {"gguf_file": self._gguf} if self._gguf else {}
        self._tokenizer = load_tokenizer(self._source, self._gguf)
        load_dtype = torch.float32 if self._gguf else dtype
        model = AutoModelForCausalLM.from_pretrained(self._source, dtype=load_dtype, **kwargs)
        self._model = cast(Any, model).to(device=device, dtype=dtype).eval()

    async def evaluate(
        self, prompts: list[JudgePrompt], score_tokens: list[str]
    ) -> list[JudgeOutput]:
        """Judge every prompt in a worker thread, one model call at a time."""
        return await asyncio.to_thread(self._evaluate_all, prompts, score_tokens)

    async def aclose(self) -> None:
        """Nothing to release beyond memory."""

    def _evaluate_all(
        self, prompts: list[JudgePrompt], score_tokens: list[str]
    ) -> list[JudgeOutput]:
        ids = [self._tokenizer.convert_tokens_to_ids(t) for t in score_tokens]
        with self._lock:
            return [self._evaluate(p, score_tokens, ids) for p in prompts]

    def _evaluate(
        self, prompt: JudgePrompt, score_tokens: list[str], score_ids: list[int]
    ) -> JudgeOutput:
        import torch

        encoding = self._tokenizer(
            prompt.text, add_special_tokens=False, return_offsets_mapping=True
        )
        input_ids = torch.tensor([encoding["input_ids"]], device=self._model.device)
        story = [
            i
            for i, (start, _) in enumerate(encoding["offset_mapping"])
            if prompt.story_start <= start < prompt.story_end and i > 0
        ]
        with torch.inference_mode():
            hidden = self._model.get_decoder()(input_ids=input_ids).last_hidden_state[0]
            head = self._model.get_output_embeddings()
            story_logprobs = []
            positions = torch.tensor([i - 1 for i in story], device=hidden.device, dtype=torch.long)
            targets = input_ids[0, story]
            for start in range(0, len(story), LM_HEAD_CHUNK):
                logits = head(hidden[positions[start : start + LM_HEAD_CHUNK]]).float()
                chosen = logits.gather(1, targets[start : start + LM_HEAD_CHUNK, None])[:, 0]
                story_logprobs.append(chosen - logits.logsumexp(dim=-1))
            answer = head(hidden[-1:]).float()[0].log_softmax(dim=-1)
        per_token = torch.cat(story_logprobs) if story_logprobs else torch.zeros(0)
        return JudgeOutput(
            score_logprobs={
                t: float(answer[i]) for t, i in zip(score_tokens, score_ids, strict=True)
            },
            story_logprob=float(per_token.mean()) if len(per_token) else 0.0,
            story_tokens=len(story),
        )


def resolve_dtype(setting: str, device: str) -> Any:
    """The torch dtype a `dtype` setting means on `device`.

    `auto`: bfloat16 on CUDA, and on a CPU that multiplies bfloat16 natively; float32 elsewhere.
    """
    import torch

    if setting == "auto":
        native = device.startswith("cuda") or native_bf16()
        return torch.bfloat16 if native else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[setting]
