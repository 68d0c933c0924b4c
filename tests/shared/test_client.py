"""RewardClient against real HTTP servers on 127.0.0.1, scripted per test."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.client import (
    InvalidResponseError,
    RequestRejectedError,
    RewardClient,
    ServiceUnavailableError,
)

RunAsgi = Callable[[Any], str]


def fast_client(base_url: str, **options: Any) -> RewardClient:
    """A client whose retries back off for milliseconds, not seconds."""
    return RewardClient(base_url, **{"backoff_base": 0.001, "backoff_max": 0.01, **options})


def unavailable() -> Response:
    return JSONResponse({"error": {"type": "not_ready", "message": "model loading"}}, 503)


@dataclass
class SeenRequest:
    body: dict[str, Any]
    headers: dict[str, str]
    client_port: int


class ScriptedService:
    """A reward service whose `/score` answers come from `script(call_number)`, else real scores.

    The real score of text `t<i>` is `i / 1000`, so order mistakes show up in the scores.
    """

    def __init__(
        self, script: Callable[[int], Response | None] = lambda _: None, *, delay_s: float = 0.0
    ) -> None:
        self.script = script
        self.delay_s = delay_s
        self.seen: list[SeenRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.ready_status = 200

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/score", self._score, methods=["POST"]),
                Route("/info", self._info),
                Route("/ready", self._ready),
            ]
        )

    async def _score(self, request: Request) -> Response:
        body = await request.json()
        call = len(self.seen)
        port = request.client.port if request.client else -1
        self.seen.append(SeenRequest(body, dict(request.headers), port))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        scripted = self.script(call)
        if scripted is not None:
            return scripted
        texts, prompts = body["texts"], body.get("prompts")
        details = [
            {"text": text, "prompt": prompts[k] if prompts else None}
            for k, text in enumerate(texts)
        ]
        return JSONResponse(
            {
                "scores": [int(text[1:]) / 1000 for text in texts],
                "service": "scripted",
                "model": "fake-0",
                "details": details if body.get("details") else None,
            }
        )

    async def _info(self, request: Request) -> Response:
        return JSONResponse(
            {
                "service": "scripted",
                "model": "fake-0",
                "version": "0.1.0",
                "ready": True,
                "profiles": ["twain"],
                "default_profile": "twain",
                "limits": {"max_texts": 64, "max_chars": 1000, "max_body_bytes": 4096},
            }
        )

    async def _ready(self, request: Request) -> Response:
        return Response(status_code=self.ready_status)


def serve(run_asgi: RunAsgi, service: ScriptedService) -> str:
    return run_asgi(service.app())


def texts(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.asyncio
async def test_score_splits_into_chunks_and_merges_in_order(run_asgi: RunAsgi) -> None:
    service = ScriptedService()
    async with RewardClient(serve(run_asgi, service), max_batch=64) as client:
        result = await client.score(texts(150), prompts=[f"p{i}" for i in range(150)], details=True)

    assert sorted(len(seen.body["texts"]) for seen in service.seen) == [22, 64, 64]
    assert result.scores == [i / 1000 for i in range(150)]
    assert result.details is not None
    assert [d["prompt"] for d in result.details] == [f"p{i}" for i in range(150)]
    assert (result.service, result.model) == ("scripted", "fake-0")


@pytest.mark.asyncio
async def test_score_bounds_concurrent_chunks(run_asgi: RunAsgi) -> None:
    service = ScriptedService(delay_s=0.05)
    async with RewardClient(serve(run_asgi, service), max_batch=2, max_concurrency=2) as client:
        result = await client.score(texts(12))

    assert len(service.seen) == 6
    assert service.max_in_flight == 2
    assert result.scores == [i / 1000 for i in range(12)]


@pytest.mark.asyncio
async def test_score_sends_optional_fields_only_when_given(run_asgi: RunAsgi) -> None:
    service = ScriptedService()
    async with RewardClient(serve(run_asgi, service)) as client:
        await client.score(texts(2), profile="twain")

    assert service.seen[0].body == {"texts": ["t0", "t1"], "profile": "twain", "details": False}


@pytest.mark.asyncio
async def test_bad_input_fails_client_side_without_a_request(run_asgi: RunAsgi) -> None:
    service = ScriptedService()
    async with RewardClient(serve(run_asgi, service)) as client:
        with pytest.raises(ValidationError, match="must be parallel"):
            await client.score(texts(3), prompts=["only one"])

    assert service.seen == []


@pytest.mark.asyncio
async def test_retries_503_then_succeeds(run_asgi: RunAsgi) -> None:
    service = ScriptedService(lambda call: unavailable() if call < 2 else None)
    async with fast_client(serve(run_asgi, service)) as client:
        result = await client.score(texts(3))

    assert len(service.seen) == 3
    assert result.scores == [0.0, 0.001, 0.002]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("retry_after", "backoff_max"),
    [
        pytest.param(lambda: "1", 30.0, id="seconds"),
        # An hour away, capped at backoff_max: a 1 s wait proves the date was understood.
        pytest.param(lambda: formatdate(time.time() + 3600, usegmt=True), 1.0, id="http-date"),
    ],
)
async def test_retry_after_is_honoured(
    run_asgi: RunAsgi, retry_after: Callable[[], str], backoff_max: float
) -> None:
    def script(call: int) -> Response | None:
        if call == 0:
            return Response(status_code=429, headers={"Retry-After": retry_after()})
        return None

    service = ScriptedService(script)
    base_url = serve(run_asgi, service)
    async with RewardClient(base_url, backoff_base=0.001, backoff_max=backoff_max) as client:
        started = time.monotonic()
        await client.score(texts(1))
        elapsed = time.monotonic() - started

    assert len(service.seen) == 2
    assert 0.9 <= elapsed < 2.0


@pytest.mark.asyncio
async def test_retry_after_is_capped_at_backoff_max(run_asgi: RunAsgi) -> None:
    def script(call: int) -> Response | None:
        return Response(status_code=503, headers={"Retry-After": "3600"}) if call == 0 else None

    service = ScriptedService(script)
    async with fast_client(serve(run_asgi, service)) as client:
        started = time.monotonic()
        await client.score(texts(1))

    assert time.monotonic() - started < 1.0


def busy() -> Response:
    return JSONResponse(
        {"error": {"type": "busy", "message": "full"}}, 429, headers={"Retry-After": "1"}
    )


@pytest.mark.asyncio
async def test_a_busy_service_is_waited_out_without_spending_retries(run_asgi: RunAsgi) -> None:
    """Busy for six answers, twice what three retries would survive: the call still succeeds."""
    service = ScriptedService(lambda call: busy() if call < 6 else None)
    async with fast_client(serve(run_asgi, service), max_retries=3) as client:
        result = await client.score(texts(2))

    assert len(service.seen) == 7
    assert result.scores == [0.0, 0.001]


@pytest.mark.asyncio
async def test_a_service_busy_past_the_budget_fails_saying_so(run_asgi: RunAsgi) -> None:
    service = ScriptedService(lambda _: busy())
    async with fast_client(serve(run_asgi, service), busy_budget_s=0.3) as client:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError, match="busy, waited out") as caught:
            await client.score(texts(1))

    assert 0.25 <= time.monotonic() - started < 5
    assert caught.value.status == 429 and len(service.seen) > 4


@pytest.mark.asyncio
async def test_retries_exhausted_raise_service_unavailable(run_asgi: RunAsgi) -> None:
    service = ScriptedService(lambda _: unavailable())
    base_url = serve(run_asgi, service)
    async with fast_client(base_url, max_retries=3) as client:
        with pytest.raises(ServiceUnavailableError) as caught:
            await client.score(texts(1))

    assert len(service.seen) == 4
    error = caught.value
    assert error.url == f"{base_url}/score"
    assert (error.status, error.error_type) == (503, "not_ready")
    assert f"{base_url}/score" in str(error)
    assert "4 attempts" in str(error)
    assert "model loading" in str(error)


@pytest.mark.asyncio
async def test_connection_refused_raises_service_unavailable() -> None:
    base_url = closed_port_url()
    async with fast_client(base_url, max_retries=1) as client:
        with pytest.raises(ServiceUnavailableError, match="ConnectError") as caught:
            await client.score(texts(1))

    assert caught.value.status is None
    assert base_url in str(caught.value)


@pytest.mark.asyncio
async def test_read_timeout_raises_service_unavailable(run_asgi: RunAsgi) -> None:
    service = ScriptedService(delay_s=0.5)
    async with fast_client(serve(run_asgi, service), read_timeout=0.2, max_retries=1) as client:
        with pytest.raises(ServiceUnavailableError, match="ReadTimeout"):
            await client.score(texts(1))

    assert len(service.seen) == 2


@pytest.mark.asyncio
async def test_422_raises_request_rejected_without_retry(run_asgi: RunAsgi) -> None:
    rejection = {"error": {"type": "invalid_request", "message": "`texts` has 0 items"}}
    service = ScriptedService(lambda _: JSONResponse(rejection, 422))
    async with fast_client(serve(run_asgi, service)) as client:
        with pytest.raises(RequestRejectedError, match="`texts` has 0 items") as caught:
            await client.score(texts(1))

    assert len(service.seen) == 1
    assert (caught.value.status, caught.value.error_type) == (422, "invalid_request")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        pytest.param(
            Response("{not json", media_type="application/json"), "not JSON", id="garbage"
        ),
        pytest.param(JSONResponse({"scores": [0.5]}), "ScoreResponse", id="missing-fields"),
        pytest.param(
            JSONResponse({"scores": [1.5, 0.1], "service": "s", "model": "m"}),
            "ScoreResponse",
            id="out-of-range",
        ),
        pytest.param(
            JSONResponse({"scores": [0.5], "service": "s", "model": "m"}),
            "1 scores for 2 texts",
            id="wrong-count",
        ),
    ],
)
async def test_invalid_response_raises(run_asgi: RunAsgi, reply: Response, cause: str) -> None:
    service = ScriptedService(lambda _: reply)
    async with fast_client(serve(run_asgi, service)) as client:
        with pytest.raises(InvalidResponseError, match=cause) as caught:
            await client.score(texts(2))

    assert len(service.seen) == 1
    assert caught.value.status == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(("api_key", "expected"), [("s3cret", "Bearer s3cret"), (None, None)])
async def test_bearer_header(run_asgi: RunAsgi, api_key: str | None, expected: str | None) -> None:
    service = ScriptedService()
    async with RewardClient(serve(run_asgi, service), api_key=api_key) as client:
        await client.score(texts(1))

    assert service.seen[0].headers.get("authorization") == expected


@pytest.mark.asyncio
async def test_one_connection_is_reused_across_calls(run_asgi: RunAsgi) -> None:
    service = ScriptedService()
    async with RewardClient(serve(run_asgi, service)) as client:
        for _ in range(3):
            await client.score(texts(1))

    assert len({seen.client_port for seen in service.seen}) == 1


def test_works_from_two_event_loops(run_asgi: RunAsgi) -> None:
    service = ScriptedService()
    client = RewardClient(serve(run_asgi, service))

    async def score_then_close(n: int) -> list[float]:
        async with client:
            return (await client.score(texts(n))).scores

    assert asyncio.run(client.score(texts(2))).scores == [0.0, 0.001]
    assert asyncio.run(score_then_close(3)) == [0.0, 0.001, 0.002]
    assert len({seen.client_port for seen in service.seen}) == 2
    # The first loop's client cannot be closed once asyncio.run has closed that loop; reap it
    # here so its warning does not surface in a later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.asyncio
async def test_info_parses_the_service_description(run_asgi: RunAsgi) -> None:
    async with RewardClient(serve(run_asgi, ScriptedService())) as client:
        info = await client.info()

    assert (info.service, info.default_profile, info.limits.max_texts) == ("scripted", "twain", 64)


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "expected"), [(200, True), (503, False)])
async def test_ready_follows_the_status(run_asgi: RunAsgi, status: int, expected: bool) -> None:
    service = ScriptedService()
    service.ready_status = status
    async with RewardClient(serve(run_asgi, service)) as client:
        assert await client.ready() is expected


@pytest.mark.asyncio
async def test_ready_is_false_when_nothing_listens() -> None:
    async with RewardClient(closed_port_url()) as client:
        assert await client.ready() is False
