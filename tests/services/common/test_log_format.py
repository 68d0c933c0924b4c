"""A service's log is in one format: uvicorn's lines and the project's alike."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from services.launcher import running_service

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .+$"
)


def test_uvicorn_and_the_project_log_in_one_format(tmp_path: Path) -> None:
    log_path = tmp_path / "completeness.log"
    with running_service("completeness", {}, log_path=log_path, ready_timeout_s=120) as url:
        assert httpx.get(f"{url}/health").status_code == 200
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert any(" uvicorn.error: " in line for line in lines), lines
    assert any(" services." in line for line in lines), lines
    odd = [line for line in lines if not LINE.match(line)]
    assert not odd, f"lines in another format: {odd}"
