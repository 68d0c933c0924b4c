"""LoRA adapters for the stages that may train them (GRPO, SFT): the settings and peft's config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoraSettings:
    """LoRA adapters (peft) as in the original: r 8, alpha 16 on the attention projections."""

    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


def lora_config(settings: LoraSettings) -> Any:
    """A peft `LoraConfig` for causal LM training, or None with LoRA off."""
    if not settings.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )
