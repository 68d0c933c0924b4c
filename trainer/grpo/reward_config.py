"""Which reward services a run calls, with what weight, and what to do when one fails."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from shared.replicas import replica_urls
from shared.settings import default_url

# A reward's name is what TRL logs (`rewards/<name>/mean`); the service is what answers it.
SERVICE_OF_REWARD = {"style": "style", "content": "judge", "completeness": "completeness"}


@dataclass
class RewardSpec:
    """One reward: its service (one URL, or several replicas), weight, timeouts, retries and
    failure policy.

    `url` is one URL, a list of replica URLs, or a comma-separated string of them (as
    `--rewards.0.url http://a:8001,http://b:8001` gives). A replica that fails a request after
    its retries is skipped for `replica_cooldown_s` seconds. Preflight needs
    `min_ready_replicas` replicas ready (null: all of them).
    """

    name: Literal["style", "content", "completeness"]
    """`style`, `content` (the judge) or `completeness`."""
    url: str | list[str]
    """The service's URL, or its replicas' (a list, or comma-separated)."""
    weight: float
    """The reward's weight in the sum TRL optimises."""
    timeout_s: float = 300.0
    """Read timeout of one request, in seconds."""
    max_retries: int = 3
    """Retries of a failed request (jittered, honouring `Retry-After`)."""
    on_failure: Literal["raise", "skip"] = "raise"
    """When the service still fails: `raise` stops the run; `skip` gives the step's samples no
    such reward."""
    max_failed_steps: int = 5
    """With `skip`: steps in a row the service may fail before the run stops."""
    api_key: str | None = None
    """The service's API key (prefer `api_key_env`, which keeps it out of saved configs)."""
    # The name of an environment variable holding the key: keeps it out of the saved config.
    api_key_env: str | None = None
    profile: str | None = None
    """The style service's author profile to score against; unset: the service's default."""
    reference_column: str | None = None
    """A dataset column whose text the style service scores against instead of a profile."""
    expect_rubric: str | None = None
    """Preflight stops unless the judge serves this rubric."""
    replica_cooldown_s: float = 30.0
    """Seconds a replica that failed is skipped."""
    min_ready_replicas: int | None = None
    """Replicas that must be ready at preflight; null: all of them."""

    def __post_init__(self) -> None:
        urls = replica_urls(self.url)
        # One URL stays a plain string, so a single-service config reads as it always did.
        self.url = urls[0] if len(urls) == 1 else urls
        if self.replica_cooldown_s < 0:
            raise ValueError(f"replica_cooldown_s must be >= 0, got {self.replica_cooldown_s}")
        minimum = self.min_ready_replicas
        whole = isinstance(minimum, int) and not isinstance(minimum, bool)
        if minimum is not None and not (whole and 1 <= minimum <= len(urls)):
            raise ValueError(
                f"min_ready_replicas must be null (all) or an integer from 1 to {len(urls)}, "
                f"the number of URLs; got {minimum!r}"
            )

    def resolved_api_key(self) -> str | None:
        """`api_key`, else the value of the `api_key_env` variable (which must then be set)."""
        if self.api_key or self.api_key_env is None:
            return self.api_key
        value = os.environ.get(self.api_key_env, "").strip()
        if not value:
            raise ValueError(
                f"reward {self.name!r} reads its API key from ${self.api_key_env}, which is not set"
            )
        return value

    @property
    def urls(self) -> list[str]:
        """The URLs of the service's replicas (one for an unreplicated service)."""
        return replica_urls(self.url)

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
