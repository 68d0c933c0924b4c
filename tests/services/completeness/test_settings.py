"""Bad settings stop the completeness service at start-up, naming the variable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.completeness.service import build_completeness_service
from services.launcher import running_service
from shared.client import RewardClient
from shared.settings import SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("COMPLETENESS_FORMULA", "v3", "'v1' or 'band'"),
        ("COMPLETENESS_BAND_HIGH_WORDS", "1000", "above COMPLETENESS_BAND_LOW_WORDS (1200)"),
        ("COMPLETENESS_V1_TARGET_WORDS", "400", "at least COMPLETENESS_V1_MIN_WORDS (500)"),
        ("COMPLETENESS_REPETITION_FULL", "0.01", "above COMPLETENESS_REPETITION_THRESHOLD"),
        ("COMPLETENESS_TRUNCATION_WEIGHT", "1.5", "less than or equal to 1"),
        ("COMPLETENESS_END_MARKER", " THE END. ", "one line"),
        ("COMPLETENESS_BAND_HALF_LIFE_WORDS", "0", "greater than 0"),
        ("COMPLETENESS_PORT", "http", "integer"),
    ],
)
def test_a_bad_setting_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        build_completeness_service()
    assert f"{variable}:" in str(raised.value) and says in str(raised.value)


def test_defaults_are_the_band_formula_on_port_8003() -> None:
    settings, scorer = build_completeness_service()
    assert settings.port == 8003 and scorer.model == "rules:band-v1"
    assert scorer.profiles == [] and scorer.default_profile is None


def test_cli_serve_with_a_bad_setting_exits_2_naming_the_variable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stylegrpo", "serve", "completeness"],
        capture_output=True,
        text=True,
        env={**os.environ, "COMPLETENESS_BAND_LOW_WORDS": "2000"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "COMPLETENESS_BAND_HIGH_WORDS" in result.stderr, result.stderr


def test_cli_serves_completeness(tmp_path: Path) -> None:
    env = {"COMPLETENESS_FORMULA": "v1", "COMPLETENESS_LOG_LEVEL": "warning"}

    async def score(url: str) -> list[float]:
        async with RewardClient(url) as client:
            return (await client.score(["Too short to count."])).scores

    with running_service("completeness", env, log_path=tmp_path / "service.log") as url:
        assert asyncio.run(score(url)) == [0.0]
