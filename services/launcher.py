"""Start a reward service as a child process and wait until it is ready (scripts, tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.child_processes import ServiceStartError, end_with_parent, free_port


@contextmanager
def running_service(
    name: str, env: dict[str, str], *, log_path: Path, ready_timeout_s: float = 900
) -> Iterator[str]:
    """Run `python -m services NAME` with `env` on a free port; yield its URL once ready."""
    started = service_process(name, env, log_path=log_path, ready_timeout_s=ready_timeout_s)
    with started as (url, _):
        yield url


@contextmanager
def service_process(
    name: str, env: dict[str, str], *, log_path: Path, ready_timeout_s: float = 900
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like `running_service`, also yielding the child process (to watch its memory)."""
    port = free_port()
    prefix = name.upper()
    child_env = {**os.environ, **env, f"{prefix}_PORT": str(port), f"{prefix}_HOST": "127.0.0.1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services", name],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=end_with_parent,  # calls prctl only: safe between fork and exec
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(
            url, ready_timeout_s, process, log_path, api_key=child_env.get(f"{prefix}_API_KEY")
        )
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_ready(
    url: str,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
    *,
    api_key: str | None = None,
) -> None:
    """Poll `/ready` until 200 (with `api_key` when the service asks for one); fail early if the
    process exits or the model fails to load."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path else ""
            tail = log.strip().splitlines()[-5:]
            raise ServiceStartError(
                f"service exited with status {process.returncode}: " + " | ".join(tail)
            )
        try:
            response = httpx.get(f"{url}/ready", timeout=5, headers=headers)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return
        if response is not None and response.status_code == 503:
            error = response.json().get("error", {})
            if error.get("type") == "load_failed":
                raise ServiceStartError(f"{url}: {error.get('message')}")
        time.sleep(0.5)
    raise ServiceStartError(f"{url} was not ready in {timeout_s:.0f}s")
