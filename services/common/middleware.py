"""ASGI middleware that guards a service before any route runs: API key and body size."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import ServiceError, error_response

# A service's page (`/`) and its files (`/static/...`) are code with no data in them: a browser
# must load them before anyone can type a key into the page.
OPEN_PATHS = frozenset({"/health", "/"})
OPEN_PREFIX = "/static/"


class ApiKeyMiddleware:
    """With an API key set, every route but `/health` and a page needs `Authorization: Bearer`."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else None
        if path is not None and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIX):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = error_response(
                    401,
                    "unauthorized",
                    "missing or wrong API key: send `Authorization: Bearer <key>`",
                    {"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, setting: str) -> None:
        self.app, self.max_bytes, self.setting = app, max_bytes, setting

    def _too_large(self, size: str) -> ServiceError:
        return ServiceError(
            413,
            "body_too_large",
            f"request body is {size} bytes; the limit is {self.max_bytes} ({self.setting})",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            error = self._too_large(declared.decode())
            await error_response(error.status, error.type, error.message)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large(f"more than {self.max_bytes}")
            return message

        await self.app(scope, counting_receive, send)
