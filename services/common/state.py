"""What the routes of one service share: its settings, scorer, metrics and readiness."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.common.admission import Admission
from services.common.metrics import ServiceMetrics
from services.common.scorer import Scorer
from shared.settings import ServiceSettings


@dataclass
class Readiness:
    """Whether the scorer has loaded, and why not if loading failed."""

    ready: bool = False
    error: str | None = None


@dataclass
class ServiceState:
    """Everything a request handler needs, kept on `app.state.service`."""

    settings: ServiceSettings
    scorer: Scorer
    metrics: ServiceMetrics
    admission: Admission
    readiness: Readiness = field(default_factory=Readiness)

    def setting_name(self, field_name: str) -> str:
        """The environment variable behind a setting, for error messages."""
        prefix = str(self.settings.model_config.get("env_prefix", ""))
        return f"{prefix}{field_name}".upper()


def get_service_state(request: Request) -> ServiceState:
    """The state of the service that received `request`."""
    state: ServiceState = request.app.state.service
    return state


ServiceStateDep = Annotated[ServiceState, Depends(get_service_state)]
