"""The README and docs/: short front door, links that resolve, files that exist, and a
configuration reference that says what the code says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_MOST_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A project file named in backticks: under one of the project's folders, with an extension.
PROJECT_FILE = re.compile(
    r"`((?:shared|services|trainer|stylegrpo|scripts|configs|docker|deploy|tests|docs)"
    r"/[\w./-]+\.\w+)`"
)


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MOST_LINES
    assert "make demo" in "\n".join(lines) and "make test" in "\n".join(lines)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [
        target
        for target in LINK.findall(text)
        if not re.match(r"^(https?:|mailto:|#)", target)
        and not (page.parent / target.split("#")[0]).exists()
    ]
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_project_file_exists(page: Path) -> None:
    named = set(PROJECT_FILE.findall(page.read_text(encoding="utf-8")))
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, f"{page.name} names files the project does not have: {missing}"


def test_the_configuration_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/config_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
