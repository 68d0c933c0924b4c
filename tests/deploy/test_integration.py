"""The deployment running: `docker compose up --wait` on a machine with Docker and NVIDIA GPUs,
then each service's readiness and an ad-hoc score through the published ports.

    python -m pytest -m integration tests/deploy      # uses .env if present, else .env.example

A stack that is already up is used as it is and left running; one started here is stopped
(`docker compose down`, volumes kept) at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_S = 3600  # first start: image builds and model downloads
STORY = (
    "Well, I reckon the river was the only schoolhouse I ever took to kindly. We lit out from "
    "the landing before sun-up, and Jim allowed that a raft was a mighty easy place to be.\n"
    "THE END."
)


@pytest.fixture(scope="module")
def here(compose: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Compose with this shell's environment (its HF_TOKEN, API keys, overrides) and its .env
    (else .env.example), as `docker compose` would run here."""
    env_file = ROOT / ".env" if (ROOT / ".env").is_file() else ROOT / ".env.example"

    def run(*args: str, timeout_s: float | None = 300) -> subprocess.CompletedProcess[str]:
        result: subprocess.CompletedProcess[str] = compose.run(
            *args, env_file=env_file, inherit_env=True, timeout_s=timeout_s
        )
        return result

    return run


@pytest.fixture(scope="module")
def stack(here: Callable[..., subprocess.CompletedProcess[str]]) -> Iterator[dict[str, Any]]:
    """The running project's services as Compose resolves them; starts them if needed."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode:
        pytest.skip("no Docker engine (`docker info` failed); this tier needs one with GPUs")
    config = here("config", "--format", "json")
    assert config.returncode == 0, config.stderr
    services: dict[str, Any] = json.loads(config.stdout)["services"]
    running = set(here("ps", "--services", "--status", "running").stdout.split())
    started = not set(services) <= running
    if started:
        up = here("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT_S), timeout_s=None)
        assert up.returncode == 0, up.stderr[-4000:]
    try:
        yield services
    finally:
        if started:
            here("down")


def published_url(service: dict[str, Any]) -> str:
    """Where a service's port is published on this machine."""
    [port] = service["ports"]
    host = port.get("host_ip") or "127.0.0.1"
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port['published']}"


def headers(prefix: str) -> dict[str, str]:
    """The bearer header for a service whose API key this shell sets, else none."""
    key = os.environ.get(f"{prefix}_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def test_every_service_is_healthy(
    stack: dict[str, Any], here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    listed = here("ps", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.strip()  # one object per line; Compose before 2.21 printed one array
    rows = json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines()]
    health = {row["Service"]: row.get("Health") for row in rows}
    assert health == {name: "healthy" for name in stack}


@pytest.mark.parametrize("name", ["style", "judge", "completeness"])
def test_each_reward_service_is_ready_on_its_published_port(
    stack: dict[str, Any], name: str
) -> None:
    response = httpx.get(f"{published_url(stack[name])}/ready", headers=headers(name.upper()))
    assert response.status_code == 200, response.text


def test_vllm_answers_on_its_published_port(stack: dict[str, Any]) -> None:
    assert httpx.get(f"{published_url(stack['vllm'])}/health").status_code == 200


def test_a_text_is_scored_ad_hoc_by_every_reward(stack: dict[str, Any]) -> None:
    for name in ("style", "judge", "completeness"):
        response = httpx.post(
            f"{published_url(stack[name])}/score",
            json={"texts": [STORY], "prompts": ["Write a story about a raft."], "details": True},
            headers=headers(name.upper()),
            timeout=300,
        )
        assert response.status_code == 200, f"{name}: {response.text}"
        body = response.json()
        assert body["service"] == name
        [score] = body["scores"]
        assert 0.0 <= score <= 1.0
        assert len(body["details"]) == 1
