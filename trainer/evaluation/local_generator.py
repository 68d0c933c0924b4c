"""Generation with transformers in this process: batched, left-padded, seeded per batch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer.common.policy_model import resolve_policy_model
from trainer.evaluation.generation import Completion, Job, SamplingSettings, job_seed


class TransformersGenerator:
    """A causal LM (hub id, folder, or `embedded:...`) sampling `batch_size` prompts at a time."""

    def __init__(
        self, model: str, sampling: SamplingSettings, *, batch_size: int, cache_dir: Path
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
        self.model_id = model
        self.sampling = sampling
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self._model: Any = None
        self._tokenizer: Any = None

    def describe(self) -> dict[str, str]:
        """Backend and model, as saved beside the completions; for a model folder also a hash
        of its weights, so that a model trained further in the same folder is not taken for
        the one that wrote them."""
        folder = Path(self.model_id)
        weights = {"weights": weights_fingerprint(folder)} if folder.is_dir() else {}
        return {"backend": "transformers", "model": self.model_id, **weights}

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        """Sample every job, a batch at a time; the model loads on the first call."""
        import torch

        self._load()
        for start in range(0, len(jobs), self.batch_size):
            batch = jobs[start : start + self.batch_size]
            # Seeded by the batch's first job: a rerun of the same jobs samples the same stories.
            torch.manual_seed(job_seed(self.sampling.seed, batch[0]))
            for completion in self._sample(batch):
                on_done(completion)

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = resolve_policy_model(self.model_id, self.cache_dir)
        on_gpu = torch.cuda.is_available()
        model: Any
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(
                source, dtype=torch.bfloat16 if on_gpu else torch.float32
            )
        except OSError as exc:
            raise FileNotFoundError(
                f"cannot load model {self.model_id!r}: {exc}. Pass a local folder, a hub id "
                "reachable from here, or embedded:smollm2-135m-instruct"
            ) from None
        # Decoder-only models continue from the right: pad on the left.
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer = tokenizer
        self._model = model.to("cuda" if on_gpu else "cpu").eval()

    def _sample(self, batch: list[Job]) -> list[Completion]:
        import torch

        tokenizer, model, sampling = self._tokenizer, self._model, self.sampling
        texts = [
            tokenizer.apply_chat_template(job.messages, tokenize=False, add_generation_prompt=True)
            for job in batch
        ]
        inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = inputs.to(model.device)
        greedy = sampling.temperature == 0
        options: dict[str, Any] = (
            {"do_sample": False}
            if greedy
            else {
                "do_sample": True,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "top_k": sampling.top_k,
                "min_p": sampling.min_p or None,
            }
        )
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                **options,
                max_new_tokens=sampling.max_new_tokens,
                repetition_penalty=sampling.repetition_penalty,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        configured = model.generation_config.eos_token_id
        stops = {
            tokenizer.eos_token_id,
            *(configured if isinstance(configured, list) else [configured]),
        }
        completions = []
        for job, tokens in zip(batch, new_tokens.tolist(), strict=True):
            ended = next((i for i, t in enumerate(tokens) if t in stops), None)
            kept = tokens if ended is None else tokens[:ended]
            completions.append(
                Completion(
                    row=job.row,
                    sample=job.sample,
                    text=tokenizer.decode(kept, skip_special_tokens=True),
                    tokens=len(kept),
                    truncated=ended is None,
                )
            )
        return completions


def weights_fingerprint(folder: Path) -> str:
    """A hash of the weight files (`*.safetensors`, `*model.bin`) in a model folder, by name and
    content.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "model.safetensors").write_bytes(b"weights")
    >>> before = weights_fingerprint(folder)
    >>> _ = (folder / "model.safetensors").write_bytes(b"trained further")
    >>> before != weights_fingerprint(folder), len(before)
    (True, 16)
    """
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and (path.suffix == ".safetensors" or path.name.endswith("model.bin")):
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]
