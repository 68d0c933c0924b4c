"""Routes of the scoring page: the page and its two files, and the peers' scores."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from services.common.routes import ERRORS
from services.common.state import ServiceStateDep
from services.style.page.peers import PeersResponse, ask_peers, configured_peers
from shared.schemas import ScoreRequest

# The page builds its DOM from text nodes only; the policy makes any slip fail closed.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter()


def page_file(name: str, media_type: str) -> Response:
    """A file of the page, read from the installed package."""
    content = files("services.style.page").joinpath("static", name).read_bytes()
    return Response(content, media_type=media_type, headers=PAGE_HEADERS)


@router.get("/", include_in_schema=False)
async def page() -> Response:
    """The scoring page."""
    return page_file("index.html", "text/html")


@router.get("/static/page.js", include_in_schema=False)
async def page_script() -> Response:
    """The page's script."""
    return page_file("page.js", "text/javascript")


@router.get("/static/page.css", include_in_schema=False)
async def page_style() -> Response:
    """The page's style sheet."""
    return page_file("page.css", "text/css")


@router.post("/page/peers", response_model=PeersResponse, responses=ERRORS)
async def peers(request: ScoreRequest, state: ServiceStateDep) -> PeersResponse:
    """The judge's and the completeness service's scores of `texts`, for the page."""
    return await ask_peers(configured_peers(state), request)
