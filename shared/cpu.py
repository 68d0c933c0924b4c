"""What this machine's CPU computes natively, for choosing a precision."""

from __future__ import annotations


def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AMX tiles or AVX-512 BF16).

    Where it does, bfloat16 autocast runs SmolLM2-135M's forward and backward ~2x faster than
    float32 (Intel Xeon with AMX, 2 cores); where it does not (AVX2-only AMD Zen 3), bfloat16
    is emulated and slower than float32.
    """
    import torch

    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
