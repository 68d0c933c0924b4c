"""The guards before any route, over real HTTP: the API key and the body size limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

KEY = "s3cret-key"
GUARDED = [
    ("POST", "/score"),
    ("GET", "/info"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
]


@pytest.fixture(scope="module")
def keyed_url(serve_shared_fake: Any) -> str:
    """A ready fake service that wants `Authorization: Bearer KEY`."""
    url: str = serve_shared_fake(api_key=KEY)
    return url


def call(
    http: httpx.Client, url: str, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = {"texts": ["a"]} if method == "POST" else None
    return http.request(method, f"{url}{path}", json=body, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}],
    ids=["no-key", "wrong-key", "key-without-bearer"],
)
def test_every_route_but_health_refuses_a_missing_or_wrong_key(
    http: httpx.Client, keyed_url: str, expect_error: Any, headers: dict[str, str]
) -> None:
    for method, path in GUARDED:
        response = call(http, keyed_url, method, path, headers)
        message = expect_error(response, 401, "unauthorized")
        assert "Authorization: Bearer <key>" in message, path
        assert response.headers["WWW-Authenticate"] == "Bearer", path


def test_every_route_answers_the_right_key(http: httpx.Client, keyed_url: str) -> None:
    for method, path in GUARDED:
        response = call(http, keyed_url, method, path, {"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200, (path, response.text)


def test_health_needs_no_key(http: httpx.Client, keyed_url: str) -> None:
    response = http.get(f"{keyed_url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_without_an_api_key_setting_no_key_is_needed(http: httpx.Client, fake_url: str) -> None:
    for method, path in GUARDED:
        assert call(http, fake_url, method, path, {}).status_code == 200, path


def test_body_over_the_limit_by_content_length_is_413(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = http.post(f"{fake_url}/score", json={"texts": ["x" * 2000]})
    assert int(response.request.headers["Content-Length"]) > 1024
    message = expect_error(response, 413, "body_too_large")
    assert "the limit is 1024 (FAKE_MAX_BODY_BYTES)" in message
    assert f"request body is {response.request.headers['Content-Length']} bytes" in message


def chunked(text: str, chunk_bytes: int = 300) -> Iterator[bytes]:
    """A JSON body `{"texts": [text]}`, streamed in chunks with no Content-Length."""
    body = f'{{"texts": ["{text}"]}}'.encode()
    for start in range(0, len(body), chunk_bytes):
        yield body[start : start + chunk_bytes]


def post_streamed(http: httpx.Client, url: str, text: str) -> httpx.Response:
    response = http.post(
        f"{url}/score", content=chunked(text), headers={"Content-Type": "application/json"}
    )
    assert "Content-Length" not in response.request.headers
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    return response


def test_streamed_body_over_the_limit_is_413(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    message = expect_error(post_streamed(http, fake_url, "x" * 2000), 413, "body_too_large")
    assert "more than 1024" in message and "FAKE_MAX_BODY_BYTES" in message


def test_streamed_body_under_the_limit_is_scored(http: httpx.Client, fake_url: str) -> None:
    response = post_streamed(http, fake_url, "y" * 40)
    assert response.status_code == 200, response.text
    assert response.json()["scores"] == [0.4]
