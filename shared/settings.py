"""Settings base for the services: pydantic-settings with one env prefix per service."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The port each service listens on unless told otherwise; callers derive their default URLs
# from the same table so the two cannot drift.
DEFAULT_PORTS = {"style": 8001, "judge": 8002, "completeness": 8003}


def default_url(service: str) -> str:
    """The URL of a service running locally on its default port."""
    return f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


def split_commas(value: object) -> object:
    """A comma-separated environment value as a list of its non-empty, stripped parts.

    >>> split_commas(" a, b,,c "), split_commas(["x"])
    (['a', 'b', 'c'], ['x'])
    """
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class ServiceSettings(BaseSettings):
    """What every reward service reads from its environment (prefix set by each subclass)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", validate_default=True)

    host: str = Field(default="127.0.0.1", description="Interface to bind.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    api_key: SecretStr | None = Field(
        default=None, description="When set, every route but /health needs `Bearer <key>`."
    )
    max_texts: int = Field(default=256, ge=1, description="Most texts in one request.")
    max_chars: int = Field(default=200_000, ge=1, description="Most characters in one text.")
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    max_in_flight_texts: int = Field(
        default=1024,
        ge=1,
        description="Most texts scored at once; past it /score answers 429 with Retry-After.",
    )
    busy_retry_after_s: int = Field(
        default=1, ge=1, description="Seconds a 429 `busy` answer asks the caller to wait."
    )
    graceful_shutdown_s: int = Field(
        default=30, ge=0, description="On SIGTERM, seconds in-flight requests may take to finish."
    )
    log_level: str = Field(
        default="info",
        pattern="^(critical|error|warning|info|debug)$",
        description="`debug`, `info`, `warning`, `error` or `critical`.",
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_no_key(cls, value: Any) -> Any:
        """`STYLE_API_KEY=` (empty, as compose passes an unset variable) means no key, not ''."""
        return None if isinstance(value, str) and not value.strip() else value


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build settings from the environment and overrides, or fail naming each bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            field = ".".join(str(part) for part in error["loc"])
            if not field:  # a check across several settings names them in its message
                problems.append(message)
                continue
            value = error.get("input")
            shown = "" if isinstance(value, dict) else f" (got {value!r})"
            problems.append(f"{prefix}{field}".upper() + f": {message}{shown}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
