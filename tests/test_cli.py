"""The `stylegrpo` command: `serve style`, then `score -` through real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.launcher import running_service
from shared.child_processes import free_port

STYLEGRPO = [sys.executable, "-m", "stylegrpo"]


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        STYLEGRPO + args,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_serve_with_a_bad_setting_exits_naming_the_variable(tmp_path: Path) -> None:
    result = run(["serve", "style"], {"STYLE_BOOKS_DIR": str(tmp_path / "missing")})
    assert result.returncode == 2
    assert "STYLE_BOOKS_DIR" in result.stderr and "missing" in result.stderr
    result = run(["serve", "style"], {"STYLE_BOOKS_DIR": str(tmp_path), "STYLE_PORT": "http"})
    assert result.returncode == 2 and "STYLE_PORT" in result.stderr


def test_serve_an_unknown_service_names_the_choices() -> None:
    result = run(["serve", "poetry"], {})
    assert result.returncode != 0 and "style" in result.stderr


def test_serve_exits_when_the_model_cannot_load(tmp_path: Path) -> None:
    (tmp_path / "ann--one.txt").write_text("A short book.", encoding="utf-8")
    env = {
        "STYLE_BOOKS_DIR": str(tmp_path),
        "STYLE_MODEL": str(tmp_path / "no-such-model"),
        "STYLE_PORT": str(free_port()),
    }
    result = run(["serve", "style"], env)
    assert result.returncode == 1
    assert "failed to load" in result.stderr or "no-such-model" in result.stderr


def test_score_reports_an_unreachable_service() -> None:
    result = run(["score", "-", "--url", "http://127.0.0.1:9"], {}, stdin="Some text.")
    assert result.returncode == 1 and "127.0.0.1:9" in result.stderr


@pytest.mark.slow
def test_serve_style_then_score_stdin(
    corpus_books: Path, negative_texts: list[Path], tmp_path: Path, twain_passages: list[str]
) -> None:
    env = {
        "STYLE_BOOKS_DIR": str(corpus_books),
        "STYLE_NEGATIVE_TEXTS": ",".join(map(str, negative_texts)),
        "STYLE_CACHE_DIR": str(tmp_path / "cache"),
        "STYLE_WINDOWS_PER_BOOK": "6",
    }
    with running_service("style", env, log_path=tmp_path / "style.log") as url:
        result = run(["score", "-", "--url", url], {}, stdin=twain_passages[0])
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("score 0.") or result.stdout.startswith("score 1.")
        assert "against mark-twain" in result.stdout and "coverage 1.00" in result.stdout
        assert "weakest windows:" in result.stdout
        unknown = run(["score", "-", "--url", url, "--profile", "nobody"], {}, stdin="Text.")
        assert unknown.returncode == 1 and "unknown profile 'nobody'" in unknown.stderr


def test_serve_judge_with_bad_settings_names_the_variable() -> None:
    result = run(["serve", "judge"], {"JUDGE_RUBRIC": "sonnet-v9"})
    assert result.returncode == 2
    assert "JUDGE_RUBRIC" in result.stderr and "narrative-v1" in result.stderr
    result = run(["serve", "judge"], {"JUDGE_BACKEND": "openai"})
    assert result.returncode == 2 and "JUDGE_OPENAI_URL" in result.stderr
