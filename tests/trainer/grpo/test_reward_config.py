"""A reward's replicas in the run config: a YAML list, a comma-separated override, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trainer.common.config_loading import ConfigError, plain_config
from trainer.grpo.config import load_config

REPLICAS = ["http://style-1:8001", "http://style-2:8001"]


def test_a_yaml_list_of_urls_gives_the_replicas_in_order(tmp_path: Path) -> None:
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "rewards": [
                    {"name": "style", "url": REPLICAS, "weight": 0.6, "min_ready_replicas": 1},
                    {"name": "completeness", "url": "http://c:8003", "weight": 0.1},
                ]
            }
        )
    )
    config = load_config(config_file, [])
    style, completeness = config.rewards
    assert style.url == style.urls == REPLICAS and style.min_ready_replicas == 1
    assert completeness.url == "http://c:8003" and completeness.urls == ["http://c:8003"]
    assert (style.replica_cooldown_s, completeness.min_ready_replicas) == (30.0, None)


def test_a_comma_separated_override_gives_the_replicas_and_round_trips(tmp_path: Path) -> None:
    config = load_config(
        None, ["--rewards.0.url", " , ".join(REPLICAS), "--rewards.0.replica_cooldown_s", "5"]
    )
    assert config.rewards[0].url == REPLICAS and config.rewards[0].replica_cooldown_s == 5
    assert config.rewards[1].url == "http://127.0.0.1:8002", "the other rewards keep one URL"
    saved = tmp_path / "config.yaml"
    saved.write_text(yaml.safe_dump(plain_config(config)))
    assert load_config(saved, []).rewards == config.rewards


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--rewards.0.url", "style-1:8001"], r"rewards\.0: .*must start with http"),
        (["--rewards.0.url", f"{REPLICAS[0]},{REPLICAS[0]}/"], r"rewards\.0: .*more than once"),
        (
            ["--rewards.0.url", ",".join(REPLICAS), "--rewards.0.min_ready_replicas", "3"],
            r"rewards\.0: .*min_ready_replicas must be .* from 1 to 2",
        ),
        (["--rewards.0.replica_cooldown_s", "-1"], r"rewards\.0: .*replica_cooldown_s"),
    ],
)
def test_bad_replica_settings_name_the_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)
