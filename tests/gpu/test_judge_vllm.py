"""The judge's OpenAI backend against a real `vllm serve` of the judge model on the GPU.

STYLEGRPO_VLLM_GPU_MODEL names the judge model (local folder or cached Hub id); with
STYLEGRPO_VLLM_URL the test uses that running server, otherwise it starts `vllm serve` itself.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

pytestmark = [pytest.mark.gpu, pytest.mark.slow]
SERVER_START_S = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_models(url: str, process: subprocess.Popen[bytes] | None) -> None:
    """Wait until the server lists its models, or fail with what went wrong."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"vllm serve exited with {process.returncode}; see its output")
        try:
            if httpx.get(f"{url}/v1/models", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(2)
    raise RuntimeError(f"vllm serve at {url} not ready within {SERVER_START_S}s")


@pytest.fixture(scope="module")
def vllm_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(server URL, model): the given server, or a `vllm serve` started for the module."""
    model = os.environ.get("STYLEGRPO_VLLM_GPU_MODEL")
    if not model:
        pytest.skip("set STYLEGRPO_VLLM_GPU_MODEL to the judge model (and optionally "
                    "STYLEGRPO_VLLM_URL to a running `vllm serve` of it)")  # fmt: skip
    url = os.environ.get("STYLEGRPO_VLLM_URL")
    if url:
        wait_for_models(url.rstrip("/"), None)
        yield url.rstrip("/"), model
        return
    if shutil.which("vllm") is None:
        pytest.skip("`vllm` is not installed here: `pip install vllm`, or set STYLEGRPO_VLLM_URL")
    port = free_port()
    log = tmp_path_factory.mktemp("vllm") / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["vllm", "serve", model, "--host", "127.0.0.1", "--port", str(port),
             "--gpu-memory-utilization", "0.4", "--max-model-len", "4096",
             "--enable-prefix-caching"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_models(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}", model
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def shuffled(text: str, seed: int) -> str:
    """The same words in a random order: fluent vocabulary, no sentences."""
    words = text.split()
    np.random.default_rng(seed).shuffle(words)
    return " ".join(words)


def test_the_judge_scores_through_vllm_and_prefers_coherent_prose(
    vllm_judge: tuple[str, str], coherent_passages: list[str], scored: Any
) -> None:
    from services.judge.service import build_judge_service

    url, model = vllm_judge
    _, scorer = build_judge_service(
        backend="openai", model=model, openai_url=url, openai_model=model,
        calibration_passages=8, cache_size=0,
    )  # fmt: skip
    coherent = coherent_passages[:8]
    scrambled = [shuffled(text, seed) for seed, text in enumerate(coherent)]
    scores, rate = scored(scorer, coherent + scrambled)
    print(f"judge through vllm serve: {rate:.1f} texts/s")
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert np.mean(scores[:8]) > np.mean(scores[8:])
