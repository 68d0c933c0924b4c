"""Graceful shutdown of a real service process: SIGTERM drains in-flight requests, exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from services.launcher import wait_ready
from shared.child_processes import free_port

SLOW_SERVICE = Path(__file__).with_name("slow_service.py")
REPO = Path(__file__).resolve().parents[3]


@contextmanager
def slow_service(
    tmp_path: Path, delay_s: float, graceful_s: int
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A `slow_service.py` process on a free port, ready; killed if the test leaves it running."""
    port = free_port()
    log_path = tmp_path / "service.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SLOW_SERVICE), str(port), str(delay_s), str(graceful_s)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, 30, process, log_path)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def post_in_background(url: str) -> tuple[threading.Thread, list[httpx.Response | Exception]]:
    """Send one `/score` request from a thread; its response (or error) lands in the list."""
    result: list[httpx.Response | Exception] = []

    def post() -> None:
        try:
            result.append(httpx.post(f"{url}/score", json={"texts": ["a", "b"]}, timeout=30))
        except Exception as exc:
            result.append(exc)

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread, result


def wait_in_flight(url: str, texts: int) -> None:
    """Poll `/metrics` until `texts` texts are being scored."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if f"stylegrpo_in_flight_texts {float(texts)}" in httpx.get(f"{url}/metrics").text:
            return
        time.sleep(0.02)
    raise TimeoutError(f"{url} never had {texts} texts in flight")


def refuses_connections(url: str, within_s: float) -> bool:
    """True once a new connection to `url` is refused (or reset unanswered while the listening
    socket closes), polling for at most `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1)
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_sigterm_lets_the_in_flight_request_finish_then_exits_0(tmp_path: Path) -> None:
    with slow_service(tmp_path, delay_s=2.0, graceful_s=10) as (url, process):
        thread, result = post_in_background(url)
        wait_in_flight(url, 2)
        process.send_signal(signal.SIGTERM)
        assert refuses_connections(url, within_s=1.5)
        assert thread.is_alive(), "the request finished before the refusal was seen"
        thread.join(timeout=10)
        assert process.wait(timeout=10) == 0, (tmp_path / "service.log").read_text()
    [response] = result
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200
    assert response.json()["scores"] == [0.5, 0.5]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_sigterm_cuts_requests_that_outlast_the_graceful_timeout(tmp_path: Path) -> None:
    with slow_service(tmp_path, delay_s=30.0, graceful_s=1) as (url, process):
        thread, result = post_in_background(url)
        wait_in_flight(url, 2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, (tmp_path / "service.log").read_text()
        assert time.monotonic() - started < 5
        thread.join(timeout=10)
    [outcome] = result
    assert not (isinstance(outcome, httpx.Response) and outcome.status_code == 200), outcome


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signals are Linux's")
def test_a_launched_service_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from services.launcher import service_process\n"
        f"with service_process('completeness', {{}}, log_path=Path({str(tmp_path / 'c.log')!r})) "
        "as (url, child):\n"
        "    print(child.pid, flush=True)\n"
        "    time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: no context manager runs, no cleanup of the parent's own
    parent.wait()
    deadline = time.monotonic() + 30
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(child), "the service outlived its killed parent"


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
