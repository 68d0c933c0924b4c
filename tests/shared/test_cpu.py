"""The CPU's native bfloat16, as the kernel reports it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cpu import native_bf16


def test_native_bf16_agrees_with_the_kernels_cpu_flags() -> None:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo on this system")
    flags = {
        flag
        for line in cpuinfo.read_text().splitlines()
        if line.startswith("flags")
        for flag in line.split(":", 1)[1].split()
    }
    assert native_bf16() == bool(flags & {"amx_bf16", "avx512_bf16"})
