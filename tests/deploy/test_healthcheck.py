"""docker/healthcheck.py, the containers' healthcheck, against a real service over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from services.common.app import create_app
from services.completeness.service import build_completeness_service
from services.launcher import wait_ready
from shared.child_processes import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "healthcheck.py"
KEY = "a-test-key"


def healthcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the script as a container does: a fresh interpreter with the container's variables."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **(env or {})},
        timeout=30,
        check=False,
    )


def test_a_ready_service_is_healthy(run_asgi: Callable[[Any], str]) -> None:
    settings, scorer = build_completeness_service()
    url = run_asgi(create_app(settings=settings, scorer=scorer))
    wait_ready(url, 10)
    result = healthcheck(f"{url}/ready", "--api-key-env", "COMPLETENESS_API_KEY")
    assert (result.returncode, result.stderr) == (0, "")


def test_the_api_key_is_read_from_the_named_variable(run_asgi: Callable[[Any], str]) -> None:
    settings, scorer = build_completeness_service(api_key=KEY)
    url = run_asgi(create_app(settings=settings, scorer=scorer))
    deadline = time.monotonic() + 10
    while httpx.get(f"{url}/ready", headers={"Authorization": f"Bearer {KEY}"}).status_code != 200:
        assert time.monotonic() < deadline, "the service did not become ready"
        time.sleep(0.05)
    without = healthcheck(f"{url}/ready", "--api-key-env", "COMPLETENESS_API_KEY")
    assert without.returncode == 1
    assert f"unhealthy: {url}/ready: HTTP 401" in without.stderr
    with_key = healthcheck(
        f"{url}/ready", "--api-key-env", "COMPLETENESS_API_KEY", env={"COMPLETENESS_API_KEY": KEY}
    )
    assert with_key.returncode == 0, with_key.stderr
    # /health is open, as vLLM's is: no key needed.
    assert healthcheck(f"{url}/health").returncode == 0


def test_nothing_listening_is_unhealthy() -> None:
    url = f"http://127.0.0.1:{free_port()}/health"
    result = healthcheck(url, "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.startswith(f"unhealthy: {url}: ")
