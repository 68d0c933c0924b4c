"""The judge's and the completeness service's scores for the page, asked server-side (no CORS)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel, Field, SecretStr

from services.common.state import ServiceState
from services.style.settings import StyleSettings
from shared.client import (
    InvalidResponseError,
    RequestRejectedError,
    RewardClient,
    RewardServiceError,
)
from shared.schemas import ErrorDetail, ScoreRequest

# A person is waiting on the page: one retry, a busy peer waited on for seconds, not the scoring
# read timeout; then the failure is shown and they can press again.
PEER_RETRIES = 1
PEER_BUSY_BUDGET_S = 5.0


class PeerScores(BaseModel):
    """One peer's answer: its model and scores, or the error that stopped it."""

    model: str | None = None
    scores: list[float] | None = None
    error: ErrorDetail | None = None


class PeersResponse(BaseModel):
    """Body of `POST /page/peers`."""

    peers: dict[str, PeerScores] = Field(description="The configured peers' answers, by service.")
    not_configured: dict[str, str] = Field(
        description="Peers not asked, each with the setting that would add it."
    )


@dataclass(frozen=True)
class Peer:
    """A reward service the page shows beside the style score."""

    service: str
    url: str | None
    api_key: SecretStr | None
    setting: str


def configured_peers(state: ServiceState) -> list[Peer]:
    """The judge and completeness peers named by the style service's `page_*` settings."""
    settings = state.settings
    if not isinstance(settings, StyleSettings):
        raise TypeError(f"the scoring page needs StyleSettings, got {type(settings).__name__}")
    return [
        Peer(
            "judge",
            settings.page_judge_url,
            settings.page_judge_api_key,
            state.setting_name("page_judge_url"),
        ),
        Peer(
            "completeness",
            settings.page_completeness_url,
            settings.page_completeness_api_key,
            state.setting_name("page_completeness_url"),
        ),
    ]


async def ask_peers(peers: list[Peer], request: ScoreRequest) -> PeersResponse:
    """Every configured peer's scores of `request.texts`, asked concurrently."""
    asked = [peer for peer in peers if peer.url is not None]
    answers = await asyncio.gather(*(ask_peer(peer, request) for peer in asked))
    return PeersResponse(
        peers={peer.service: answer for peer, answer in zip(asked, answers, strict=True)},
        not_configured={peer.service: peer.setting for peer in peers if peer.url is None},
    )


async def ask_peer(peer: Peer, request: ScoreRequest) -> PeerScores:
    """One peer's scores, or its failure as an error for the page (never an exception)."""
    assert peer.url is not None
    api_key = peer.api_key.get_secret_value() if peer.api_key else None
    try:
        async with RewardClient(
            peer.url, api_key=api_key, max_retries=PEER_RETRIES, busy_budget_s=PEER_BUSY_BUDGET_S
        ) as client:
            # The peers have no author profiles, so only the texts and prompts are theirs to see.
            answer = await client.score(request.texts, prompts=request.prompts)
    except RewardServiceError as exc:
        return PeerScores(error=ErrorDetail(type=_error_type(exc), message=str(exc)))
    return PeerScores(model=answer.model, scores=answer.scores)


def _error_type(exc: RewardServiceError) -> str:
    if isinstance(exc, RequestRejectedError):
        return f"peer_rejected:{exc.error_type}" if exc.error_type else "peer_rejected"
    if isinstance(exc, InvalidResponseError):
        return "peer_invalid_response"
    return "peer_unavailable"
