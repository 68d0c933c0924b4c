"""`create_app(settings=..., scorer=...)`: the one FastAPI app factory every service uses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.admission import Admission
from services.common.errors import install_error_handlers
from services.common.metrics import MetricsMiddleware, ServiceMetrics
from services.common.middleware import ApiKeyMiddleware, BodyLimitMiddleware
from services.common.routes import package_version, router
from services.common.scorer import Scorer, ServesRoutes
from services.common.state import Readiness, ServiceState
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def create_app(*, settings: ServiceSettings, scorer: Scorer) -> FastAPI:
    """A reward service: the scorer loads in the background; routes answer meanwhile."""
    metrics = ServiceMetrics(scorer.service)
    admission = Admission(
        max_texts=settings.max_in_flight_texts,
        retry_after_s=settings.busy_retry_after_s,
        setting=f"{settings.model_config.get('env_prefix', '')}max_in_flight_texts".upper(),
        registry=metrics.registry,
    )
    state = ServiceState(settings=settings, scorer=scorer, metrics=metrics, admission=admission)
    state.metrics.watch(scorer.counters)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(_load(scorer, state.readiness), name="load-scorer")
        try:
            yield
        finally:
            if loading.done():
                await scorer.aclose()

    app = FastAPI(
        title=f"stylegrpo {scorer.service} reward",
        version=package_version(),
        lifespan=lifespan,
    )
    app.state.service = state
    routers = [router, *(scorer.routers() if isinstance(scorer, ServesRoutes) else ())]
    for included in routers:
        app.include_router(included)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        setting=state.setting_name("max_body_bytes"),
    )
    if settings.api_key is not None:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key.get_secret_value())
    # Newer FastAPI keeps an included router as one entry in `app.routes`, so its paths are
    # read from the router itself; missing them would label every request route="other".
    routes = {
        route.path
        for route in [*app.routes, *(r for included in routers for r in included.routes)]
        if hasattr(route, "path")
    }
    app.add_middleware(MetricsMiddleware, metrics=state.metrics, routes=routes)
    return app


def readiness_of(app: FastAPI) -> Readiness:
    """The load state of an app made by `create_app`."""
    state: ServiceState = app.state.service
    return state.readiness


async def _load(scorer: Scorer, readiness: Readiness) -> None:
    try:
        await asyncio.to_thread(scorer.load)
    except Exception as exc:
        readiness.error = f"{type(exc).__name__}: {exc}"
        log.exception("%s scorer failed to load", scorer.service)
        return
    readiness.ready = True
    log.info("%s scorer ready (model %s)", scorer.service, scorer.model)
