"""Which reward services a run calls, with what weight, and what to do when one fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.settings import default_url

# A reward's name is what TRL logs (`rewards/<name>/mean`); the service is what answers it.
SERVICE_OF_REWARD = {"style": "style", "content": "judge", "completeness": "completeness"}


@dataclass
class RewardSpec:
    """One reward: its service, weight, timeouts, retries and failure policy."""

    name: Literal["style", "content", "completeness"]
    url: str
    weight: float
    timeout_s: float = 300.0
    max_retries: int = 3
    on_failure: Literal["raise", "skip"] = "raise"
    max_failed_steps: int = 5
    api_key: str | None = None
    profile: str | None = None
    reference_column: str | None = None
    expect_rubric: str | None = None

    @property
    def service(self) -> str:
        """The service that computes this reward."""
        return SERVICE_OF_REWARD[self.name]


def default_rewards() -> list[RewardSpec]:
    """The original's three rewards and weights [0.6, 0.3, 0.1], on the default local ports."""
    return [
        RewardSpec(name="style", url=default_url("style"), weight=0.6, profile="mark-twain"),
        RewardSpec(name="content", url=default_url("judge"), weight=0.3),
        RewardSpec(name="completeness", url=default_url("completeness"), weight=0.1),
    ]


@dataclass
class RewardsConfig:
    """The rewards of a run."""

    rewards: list[RewardSpec] = field(default_factory=default_rewards)
