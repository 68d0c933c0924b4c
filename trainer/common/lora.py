"""LoRA adapters for the stages that may train them (GRPO, SFT): the settings and peft's config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoraSettings:
    """LoRA adapters (peft) as in the original: r 8, alpha 16 on the attention projections."""

    enabled: bool = False
    """Train LoRA adapters instead of every weight."""
    r: int = 8
    """Adapter rank."""
    alpha: int = 16
    """Adapter scaling (alpha / r multiplies the update)."""
    dropout: float = 0.05
    """Dropout on the adapters' input."""
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    """The projections that get adapters."""


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
