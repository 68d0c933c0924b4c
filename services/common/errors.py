"""One error shape for every route: `{"error": {"type", "message"}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.scorer import InvalidInputError
from shared.schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)


class ServiceError(StarletteHTTPException):
    """An error with its HTTP status, machine-readable type and message for the caller."""

    # An HTTPException because FastAPI re-raises those from a body read but turns any other
    # error there (e.g. the body limit's, raised mid-stream) into a 400.
    def __init__(
        self, status: int, type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, detail=message, headers=headers)
        self.status, self.type, self.message = status, type, message


def error_response(
    status: int, type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON response in the one error shape."""
    body = ErrorResponse(error=ErrorDetail(type=type, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def describe_validation_errors(exc: RequestValidationError) -> str:
    """`field: problem` for each error, the field path without FastAPI's `body` prefix."""
    parts = []
    for error in exc.errors()[:5]:
        location = [str(p) for p in error.get("loc", ()) if p != "body"]
        field = ".".join(location) or "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def body_problem(
    content_type: str | None, exc: RequestValidationError, body: bytes
) -> tuple[int, str, str] | None:
    """A body that is not JSON at all (400, where it breaks, in words) or not sent as JSON (415),
    rather than a field's problem; None when the fields are what is wrong.

    >>> from fastapi.exceptions import RequestValidationError
    >>> broken = RequestValidationError([{"type": "json_invalid", "loc": ("body", 13),
    ...     "msg": "JSON decode error", "ctx": {"error": "Expecting value"}}])
    >>> body_problem("application/json", broken, b'{"texts": [1,\\n')[2]
    'the body is not valid JSON: Expecting value at character 13 (line 1, column 14)'
    >>> plain = RequestValidationError([{"type": "model_attributes_type", "loc": ("body",)}])
    >>> body_problem("text/plain; charset=utf-8", plain, b"hello")[:2]
    (415, 'unsupported_media_type')
    """
    errors = exc.errors()
    for error in errors:
        if error.get("type") != "json_invalid":
            continue
        location = error.get("loc", ())
        reason = str(error.get("ctx", {}).get("error", "malformed JSON"))
        where = ""
        if len(location) > 1 and isinstance(location[1], int):
            character = location[1]
            before = body[:character].decode("utf-8", errors="replace")
            line = before.count("\n") + 1
            column = character - (before.rfind("\n") + 1) + 1
            # json's own message may end in "starting at" (its position dropped by FastAPI).
            joint = " " if reason.endswith(" at") else " at "
            where = f"{joint}character {character} (line {line}, column {column})"
        return 400, "invalid_json", f"the body is not valid JSON: {reason}{where}"
    media_type = (content_type or "").split(";")[0].strip().lower()
    is_json = media_type in ("", "application/json") or media_type.endswith("+json")
    if not is_json and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors):
        return (
            415,
            "unsupported_media_type",
            f"the body was sent as {media_type}: send it as JSON, with "
            "Content-Type: application/json",
        )
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure, expected or not, in the one error shape."""

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status, exc.type, exc.message, exc.headers)

    @app.exception_handler(InvalidInputError)
    async def _invalid_input(_: Request, exc: InvalidInputError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = body_problem(request.headers.get("content-type"), exc, await request.body())
        if problem is not None:
            return error_response(*problem)
        return error_response(422, "validation_error", describe_validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, "http_error", str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")
