"""A reward's API key from an environment variable: never written into the run's config."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.common.app import create_app
from services.completeness.service import build_completeness_service
from trainer.grpo.preflight import PreflightError, check_services
from trainer.grpo.reward_config import RewardSpec


def keyed_completeness(run_asgi: Callable[[Any], str], key: str) -> str:
    settings, scorer = build_completeness_service()
    settings = settings.model_copy(update={"api_key": SecretStr(key)})
    url = run_asgi(create_app(settings=settings, scorer=scorer))
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(300):  # the rules load in milliseconds; /ready itself needs the key
        if httpx.get(f"{url}/ready", headers=headers).status_code == 200:
            return url
        time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


def test_the_key_comes_from_the_named_variable(
    run_asgi: Callable[[Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = keyed_completeness(run_asgi, "s3cret")
    spec = RewardSpec(name="completeness", url=url, weight=1.0, api_key_env="REWARD_KEY")
    monkeypatch.setenv("REWARD_KEY", "s3cret")
    assert any("completeness" in line for line in asyncio.run(check_services([spec])))
    monkeypatch.setenv("REWARD_KEY", "wrong")
    with pytest.raises(PreflightError, match=r"401|API key"):
        asyncio.run(check_services([spec]))


def test_an_unset_key_variable_stops_preflight_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REWARD_KEY", raising=False)
    spec = RewardSpec(
        name="completeness", url="http://127.0.0.1:9", weight=1.0, api_key_env="REWARD_KEY"
    )
    with pytest.raises(PreflightError, match=r"\$REWARD_KEY, which is not set"):
        asyncio.run(check_services([spec]))


def test_an_empty_service_key_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLETENESS_API_KEY", "  ")
    settings, _ = build_completeness_service()
    assert settings.api_key is None
