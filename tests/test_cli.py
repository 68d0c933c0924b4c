"""The `stylegrpo` command: `serve style`, then `score -` through real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.launcher import running_service
from shared.child_processes import free_port
from tests.conftest import HELD_OUT_TWAIN

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


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "missing.txt: no such file"),
        ("folder", "is a folder: give a text file"),
        ("latin-1", "is not UTF-8 text (byte 0xe9 at offset 3): convert it first"),
        ("empty", "is empty: there is nothing to score"),
        ("url without scheme", "--url: replica URLs must start with http:// or https://"),
    ],
)
def test_an_ordinary_mistake_is_one_line_and_exit_2(
    tmp_path: Path, case: str, expected: str
) -> None:
    files = {"latin-1": "caf\xe9 au lait\n".encode("latin-1"), "empty": b"  \n"}
    for name, data in files.items():
        (tmp_path / f"{name}.txt").write_bytes(data)
    args = {
        "missing": ["score", str(tmp_path / "missing.txt")],
        "folder": ["score", str(tmp_path)],
        "latin-1": ["score", str(tmp_path / "latin-1.txt")],
        "empty": ["score", str(tmp_path / "empty.txt")],
        "url without scheme": ["score", "-", "--url", "127.0.0.1:18001"],
    }[case]
    result = run(args, {}, stdin="A text.")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and expected in result.stderr
    assert result.stderr.count("\n") == 1, f"one line, no traceback: {result.stderr}"


def test_an_unexpected_error_is_one_line_unless_debug(tmp_path: Path) -> None:
    (tmp_path / "completions.jsonl").write_text("{not json\n")
    (tmp_path / "metrics.jsonl").write_text("{not json\n")
    quiet = run(["report", str(tmp_path)], {})
    assert quiet.returncode == 1
    assert quiet.stderr.startswith("error: JSONDecodeError: ") and "--debug" in quiet.stderr
    assert quiet.stderr.count("\n") == 1 and "Traceback" not in quiet.stderr
    loud = run(["report", str(tmp_path), "--debug"], {"COLUMNS": "200"})
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_help_names_the_services_the_overrides_and_every_key() -> None:
    serve = run(["serve", "--help"], {"COLUMNS": "200"}).stdout
    assert all(name in serve for name in ("style", "judge", "completeness", "all"))
    grpo = run(["train", "grpo", "--help"], {"COLUMNS": "200"}).stdout
    assert "--grpo.learning_rate" in grpo and "docs/configuration.md" in grpo
    score = run(["score", "--help"], {"COLUMNS": "200"}).stdout
    assert "API key the service asks for" in score


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
        # The service's books include the passage's own: copied, said so, and from which book.
        assert "why the score is lower than its windows':\n  - copied: " in result.stdout
        assert f"of {HELD_OUT_TWAIN.removesuffix('.txt').split('--')[1]} (a mark-twain book)" in (
            result.stdout
        )
        assert "weakest windows (before the cuts above):" in result.stdout
        unknown = run(["score", "-", "--url", url, "--profile", "nobody"], {}, stdin="Text.")
        assert unknown.returncode == 1 and "unknown profile 'nobody'" in unknown.stderr


def test_serve_judge_with_bad_settings_names_the_variable() -> None:
    result = run(["serve", "judge"], {"JUDGE_RUBRIC": "sonnet-v9"})
    assert result.returncode == 2
    assert "JUDGE_RUBRIC" in result.stderr and "narrative-v1" in result.stderr
    result = run(["serve", "judge"], {"JUDGE_BACKEND": "openai"})
    assert result.returncode == 2 and "JUDGE_OPENAI_URL" in result.stderr
