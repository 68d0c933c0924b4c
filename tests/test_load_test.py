"""`scripts/load_test.py --url` measures a service that is already running, key and all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.launcher import running_service

ROOT = Path(__file__).resolve().parents[1]
LOAD = [sys.executable, str(ROOT / "scripts" / "load_test.py")]
SHORT = ["--seconds", "1", "--clients", "2", "--texts", "4", "--words", "60"]


def test_load_test_measures_a_running_service_with_its_key(tmp_path: Path) -> None:
    env = {"COMPLETENESS_API_KEY": "sesame"}
    with running_service("completeness", env, log_path=tmp_path / "service.log") as url:
        without_key = {k: v for k, v in os.environ.items() if k != "STYLEGRPO_API_KEY"}
        loaded = subprocess.run(
            [*LOAD, "--url", url, "--api-key", "sesame", *SHORT],
            capture_output=True, text=True, timeout=120, env=without_key,
        )  # fmt: skip
        refused = subprocess.run(
            [*LOAD, "--url", url, "--api-key", "wrong", *SHORT],
            capture_output=True, text=True, timeout=120, env=without_key,
        )  # fmt: skip

    assert loaded.returncode == 0, loaded.stderr
    assert "answers          200: " in loaded.stdout
    assert "not measured: the service runs elsewhere" in loaded.stdout
    assert "starting the" not in loaded.stdout, "no service of its own"
    assert refused.returncode != 0 and "HTTP 401" in refused.stderr
