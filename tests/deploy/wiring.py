"""What every deployment of the stack (compose.yaml, deploy/kubernetes/) must agree on with the
Python side: the settings classes, the trainer's launch command, the judge's model server; and
compose's GPU reservations, which the Kubernetes manifests mirror."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic_settings import BaseSettings

from services.completeness.settings import CompletenessSettings
from services.judge.settings import JudgeSettings
from services.style.settings import StyleSettings
from shared.settings import load_settings
from trainer.common.config_loading import launch_arguments
from trainer.grpo.config import RunConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
SETTINGS: dict[str, type[BaseSettings]] = {
    "style": StyleSettings,
    "judge": JudgeSettings,
    "completeness": CompletenessSettings,
}
SECRET = re.compile(r"(TOKEN|API_KEY|SECRET|PASSWORD)$")
_DURATION = re.compile(r"(\d+)(h|m|s)")


def option(command: list[str], name: str) -> str:
    """The value after `name` in an argument list."""
    assert name in command, f"{name} missing from {shlex.join(command)}"
    return command[command.index(name) + 1]


def seconds(duration: str) -> int:
    """A Go duration as Compose prints it (`15m0s`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in _DURATION.findall(duration))


def gpu_requests(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The device reservations of a compose service."""
    devices: list[dict[str, Any]] = (
        service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    )
    return devices


def env_prefix(reward: str) -> str:
    """The environment prefix of a reward service's settings (`STYLE_`)."""
    return str(SETTINGS[reward].model_config["env_prefix"])


def trainer_config(command: list[str]) -> tuple[RunConfig, Path]:
    """The run config an `accelerate launch -m trainer.grpo` command runs, and its accelerate
    config file."""
    assert command[:2] == ["accelerate", "launch"], command
    assert option(command, "-m") == "trainer.grpo"
    accelerate_config = ROOT / option(command, "--config_file")
    path, overrides = launch_arguments(command[command.index("-m") + 2 :])
    assert path is not None, "the trainer names no --config"
    return load_config(ROOT / path, overrides), accelerate_config


def assert_settings_environment(
    name: str,
    reward: str,
    environment: dict[str, str | None],
    books_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> BaseSettings:
    """Every variable of a reward container is a setting of its service (or HF_TOKEN), and the
    set values load; None stands for a value given at run time (a secret). Returns the settings."""
    settings_class = SETTINGS[reward]
    prefix = env_prefix(reward)
    for key in environment:
        known = key.startswith(prefix) and key[len(prefix) :].lower() in (
            settings_class.model_fields
        )
        assert known or key == "HF_TOKEN", f"{name}: {key} is not a {prefix}* setting"
    with monkeypatch.context() as patch:
        for key, value in environment.items():
            if value is not None:
                patch.setenv(key, value)
        if reward == "style":  # a folder inside the container; any folder will do here
            patch.setenv("STYLE_BOOKS_DIR", str(books_dir))
        return load_settings(settings_class)


def assert_judge_uses_server(
    judge: dict[str, str | None], command: list[str], host: str, port: int
) -> None:
    """The judge calls `vllm serve` (`command`) at `host:port`, and renders prompts for the
    model it serves, within its context."""
    assert command[:2] == ["vllm", "serve"]
    url = urlsplit(judge["JUDGE_OPENAI_URL"] or "")
    assert (judge["JUDGE_BACKEND"], url.hostname, url.port) == ("openai", host, port)
    assert judge["JUDGE_OPENAI_MODEL"] == option(command, "--served-model-name")
    assert judge["JUDGE_MODEL"] == command[2], "the judge's tokenizer must be the served model's"
    assert judge["JUDGE_MAX_CONTEXT_TOKENS"] == option(command, "--max-model-len")
