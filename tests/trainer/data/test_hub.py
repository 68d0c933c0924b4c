"""`--push-to-hub` on dataset builders: token checked first, a failed push keeps the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylegrpo.cli import build_app

BOOK = "It was a fine day on the river, and we drifted.\n\nThen the fog came down on us all.\n"


def chunk_command(tmp_path: Path) -> list[str]:
    books = tmp_path / "books"
    books.mkdir()
    (books / "mark-twain--river.txt").write_text(BOOK)
    return ["data", "chunk", "--books", str(books), "--out", str(tmp_path / "chunks")]


def test_a_push_without_a_token_stops_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    result = CliRunner().invoke(
        build_app(), [*chunk_command(tmp_path), "--push-to-hub", "me/river"]
    )
    assert result.exit_code == 1
    assert "set HF_TOKEN" in result.output
    assert not (tmp_path / "chunks").exists()


def test_a_failed_push_names_the_repo_and_keeps_the_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(
        build_app(), [*chunk_command(tmp_path), "--push-to-hub", "me/river"]
    )
    assert result.exit_code == 1
    assert "pushing" in result.output and "me/river failed" in result.output
    assert "intact on disk" in result.output
    assert (tmp_path / "chunks" / "summary.json").is_file()
