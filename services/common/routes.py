"""The routes every reward service serves: /score, /health, /ready, /info, /metrics."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.errors import ServiceError
from services.common.state import ServiceState, ServiceStateDep
from shared.schemas import ErrorResponse, InfoResponse, Limits, ScoreRequest, ScoreResponse

RETRY_AFTER_LOADING_S = "5"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "The body is not valid JSON (the message says where it breaks).",
        401: "Missing or wrong API key.",
        413: "Too many texts, a text too long, or the body too large.",
        415: "The body was not sent as `application/json`.",
        422: "A field is missing or wrong (the message names it).",
        429: "Too many texts in flight; retry after `Retry-After` seconds.",
        503: "The model is not loaded yet.",
    }.items()
}

router = APIRouter()


def package_version() -> str:
    """The installed stylegrpo version."""
    try:
        return version("stylegrpo")
    except PackageNotFoundError:
        return "0+unknown"


@router.post("/score", response_model=ScoreResponse, responses=ERRORS)
async def score(request: ScoreRequest, state: ServiceStateDep) -> ScoreResponse:
    """Score a batch of texts; one score in [0, 1] per text."""
    _require_ready(state)
    _check_limits(request, state)
    state.metrics.batch_texts.observe(len(request.texts))
    async with state.admission.admit(len(request.texts)):
        scored = await state.scorer.score(request)
    state.metrics.texts_scored.inc(len(request.texts))
    return ScoreResponse(
        scores=scored.scores,
        service=state.scorer.service,
        model=state.scorer.model,
        details=scored.details,
    )


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive (answers while the model loads)."""
    return {"status": "ok"}


@router.get("/ready", responses=ERRORS)
async def ready(state: ServiceStateDep) -> dict[str, str]:
    """200 once the model is loaded; 503 until then or if loading failed."""
    _require_ready(state)
    return {"status": "ready"}


@router.get("/info", response_model=InfoResponse)
async def info(state: ServiceStateDep) -> InfoResponse:
    """What the service serves: model, profiles, limits, version, scorer settings."""
    settings = state.settings
    ready = state.readiness.ready
    return InfoResponse(
        service=state.scorer.service,
        model=state.scorer.model,
        version=package_version(),
        ready=ready,
        profiles=state.scorer.profiles if ready else [],
        default_profile=state.scorer.default_profile,
        limits=Limits(
            max_texts=settings.max_texts,
            max_chars=settings.max_chars,
            max_body_bytes=settings.max_body_bytes,
        ),
        scorer=state.scorer.describe() if ready else {},
    )


@router.get("/metrics", response_class=Response)
async def metrics(state: ServiceStateDep) -> Response:
    """Prometheus metrics."""
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")


def _require_ready(state: ServiceState) -> None:
    readiness = state.readiness
    if readiness.error is not None:
        raise ServiceError(503, "load_failed", f"the model failed to load: {readiness.error}")
    if not readiness.ready:
        raise ServiceError(
            503,
            "not_ready",
            "the model is still loading; retry shortly",
            {"Retry-After": RETRY_AFTER_LOADING_S},
        )


def _check_limits(request: ScoreRequest, state: ServiceState) -> None:
    settings = state.settings
    if len(request.texts) > settings.max_texts:
        raise ServiceError(
            413,
            "too_many_texts",
            f"`texts` has {len(request.texts)} items; at most {settings.max_texts} per request "
            f"({state.setting_name('max_texts')}); split the batch",
        )
    for field in ("texts", "prompts", "references"):
        for i, text in enumerate(getattr(request, field) or []):
            if len(text) > settings.max_chars:
                raise ServiceError(
                    413,
                    "text_too_long",
                    f"{field}[{i}] has {len(text)} characters; at most {settings.max_chars} "
                    f"({state.setting_name('max_chars')})",
                )
