"""The config loader on a tree of its own: nothing in it knows GRPO's sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trainer.common.config_loading import ConfigError, load_dataclass


@dataclass
class Endpoint:
    url: str = "http://a"
    retries: int = 3


@dataclass
class Limits:
    depth: int = 2
    folder: Path | None = None


@dataclass
class Tree:
    name: str = "tree"
    endpoints: list[Endpoint] = field(default_factory=lambda: [Endpoint(), Endpoint("http://b")])
    limits: Limits = field(default_factory=Limits)
    trainer: dict[str, Any] = field(default_factory=dict)


def test_nested_sections_and_lists_are_built_from_their_types(tmp_path: Path) -> None:
    config_file = tmp_path / "tree.yaml"
    config_file.write_text("limits: {depth: 5}\ntrainer: {learning_rate: 1e-5}\n")
    tree = load_dataclass(
        Tree,
        config_file,
        ["--endpoints.1.retries", "7", "--limits.folder", "runs/x"],
        passthrough="trainer",
    )
    assert tree.limits == Limits(depth=5, folder=Path("runs/x"))
    # An override into a list the file does not set edits the default list.
    assert tree.endpoints == [Endpoint(), Endpoint("http://b", 7)]
    assert tree.trainer == {"learning_rate": 1e-5}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--limits.depth", "two"], "limits.depth must be an integer"),
        (["--endpoints.0.port", "1"], "unknown key(s) endpoints.0.port"),
        (["--endpoints", "3"], "endpoints must be a list"),
        (["--limits", "3"], "limits must be a mapping"),
    ],
)
def test_a_wrong_value_names_its_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataclass(Tree, None, overrides, passthrough="trainer")
