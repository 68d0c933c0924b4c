"""Hostile and malformed requests over real HTTP: refused in the one error shape, never 5xx."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

KEY = "k3y-that-must-never-be-logged"
BIG = 20_000_000  # a body limit above every hostile body below, so the next guard is reached


@pytest.fixture(scope="module")
def roomy_url(serve_shared_fake: Any) -> str:
    """A fake with a large body limit but 4 texts of 50 characters at most."""
    url: str = serve_shared_fake(max_body_bytes=BIG)
    return url


def post_raw(
    http: httpx.Client, url: str, content: bytes | Iterator[bytes], **headers: str
) -> httpx.Response:
    return http.post(
        f"{url}/score", content=content, headers={"Content-Type": "application/json", **headers}
    )


def test_body_over_the_limit_is_413_naming_the_variable(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    body = json.dumps({"texts": ["x" * 5000]}).encode()
    message = expect_error(post_raw(http, fake_url, body), 413, "body_too_large")
    assert "FAKE_MAX_BODY_BYTES" in message


def test_streamed_body_over_the_limit_without_content_length_is_413(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    body = json.dumps({"texts": ["x" * 5000]}).encode()
    chunks = iter([body[i : i + 256] for i in range(0, len(body), 256)])
    response = post_raw(http, fake_url, chunks)
    assert "Content-Length" not in response.request.headers
    assert "FAKE_MAX_BODY_BYTES" in expect_error(response, 413, "body_too_large")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_without_a_crash(
    http: httpx.Client, roomy_url: str, opener: str
) -> None:
    body = (opener * 100_000).encode()
    response = post_raw(http, roomy_url, body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error"}
    assert http.get(f"{roomy_url}/health").status_code == 200, "the server survived"


def test_a_full_depth_nested_value_inside_a_valid_field_is_refused(
    http: httpx.Client, roomy_url: str, expect_error: Any
) -> None:
    body = ('{"texts": ["a"], "profile": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    response = post_raw(http, roomy_url, body)
    assert response.status_code in (400, 422), response.text
    assert set(response.json()) == {"error"}


def test_invalid_utf8_is_a_client_error(http: httpx.Client, roomy_url: str) -> None:
    response = post_raw(http, roomy_url, b'{"texts": ["caf\xc3\x28 \xff\xfe"]}')
    assert response.status_code in (400, 422), response.text
    assert set(response.json()["error"]) == {"type", "message"}


@pytest.mark.parametrize(
    "text", ["a\x00b", "\x00" * 40, "\x01\x02\x1b[31m\x7f\u202e\ufeff"], ids=repr
)
def test_nul_and_control_characters_are_scored_or_422(
    http: httpx.Client, roomy_url: str, text: str, expect_error: Any
) -> None:
    response = post_raw(http, roomy_url, json.dumps({"texts": [text]}).encode())
    if response.status_code == 200:
        assert response.json()["scores"] == [len(text) % 100 / 100]
    else:
        expect_error(response, 422, response.json()["error"]["type"])


@pytest.mark.parametrize("field", ["texts", "prompts", "references"])
def test_a_lone_surrogate_is_422_naming_the_field(
    http: httpx.Client, fake_url: str, field: str, expect_error: Any
) -> None:
    # A tokenizer cannot encode it: let through, it would fail the scorer with a 500.
    body = {"texts": ["ok", "ok"], field: ["ok", "a\ud800b"]}
    response = post_raw(http, fake_url, json.dumps(body).encode())
    message = expect_error(response, 422, "validation_error")
    assert message.startswith(f"{field}: item 1, character 1 is a lone surrogate")


def test_a_hundred_thousand_tiny_texts_are_413_naming_max_texts(
    http: httpx.Client, roomy_url: str, expect_error: Any
) -> None:
    response = http.post(f"{roomy_url}/score", json={"texts": ["a"] * 100_000})
    message = expect_error(response, 413, "too_many_texts")
    assert "100000 items" in message and "FAKE_MAX_TEXTS" in message


def test_a_ten_megabyte_text_is_413(
    http: httpx.Client, fake_url: str, roomy_url: str, expect_error: Any
) -> None:
    body = {"texts": ["x" * 10_000_000]}
    assert "FAKE_MAX_CHARS" in expect_error(
        http.post(f"{roomy_url}/score", json=body), 413, "text_too_long"
    )
    assert "FAKE_MAX_BODY_BYTES" in expect_error(
        http.post(f"{fake_url}/score", json=body), 413, "body_too_large"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"texts": "one text"}, "texts"),
        ({"texts": [1, 2]}, "texts.0"),
        ({"texts": [None]}, "texts.0"),
        ({"texts": ["a"], "details": "yes"}, "details"),
        ({"texts": ["a"], "profile": 7}, "profile"),
        ({"texts": ["a"], "prompts": [["nested"]]}, "prompts.0"),
        ([["a"]], "body"),
        ("a", "body"),
        (None, "body"),
    ],
    ids=repr,
)
def test_wrong_types_are_422_naming_the_field(
    http: httpx.Client, fake_url: str, body: Any, field: str, expect_error: Any
) -> None:
    response = post_raw(http, fake_url, json.dumps(body).encode())
    assert expect_error(response, 422, "validation_error").startswith(f"{field}:")


def test_unknown_fields_are_422_naming_the_field(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = http.post(f"{fake_url}/score", json={"texts": ["a"], "temperature": 2})
    assert "temperature" in expect_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_wrong_content_type_is_a_client_error(
    http: httpx.Client, fake_url: str, content_type: str
) -> None:
    body = json.dumps({"texts": ["a"]}).encode()
    response = post_raw(http, fake_url, body, **{"Content-Type": content_type})
    assert response.status_code == 415, response.text
    assert response.json()["error"]["type"] == "unsupported_media_type"
    message = response.json()["error"]["message"]
    assert content_type in message and "application/json" in message


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"texts": ["a",', "at character 15 (line 1, column 16)"),
        (b'{"texts":\n  ["a"]\n  oops}', "at character 20 (line 3, column 3)"),
        (b"not json", "at character 0 (line 1, column 1)"),
    ],
)
def test_a_body_that_is_not_json_is_400_saying_where(
    http: httpx.Client, fake_url: str, body: bytes, where: str
) -> None:
    response = post_raw(http, fake_url, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_json"
    assert error["message"].startswith("the body is not valid JSON: ") and where in error["message"]


@pytest.fixture(scope="module")
def keyed_url(serve_shared_fake: Any) -> str:
    """A fake that wants `Authorization: Bearer KEY`."""
    url: str = serve_shared_fake(api_key=KEY)
    return url


def test_with_a_key_every_route_but_health_is_401(
    http: httpx.Client, keyed_url: str, expect_error: Any
) -> None:
    schema = http.get(f"{keyed_url}/openapi.json", headers={"Authorization": f"Bearer {KEY}"})
    routes = [(m.upper(), p) for p, ops in schema.json()["paths"].items() for m in ops]
    assert ("POST", "/score") in routes and ("GET", "/health") in routes
    for method, path in [*routes, ("GET", "/openapi.json"), ("GET", "/docs")]:
        response = http.request(method, f"{keyed_url}{path}", json={"texts": ["a"]})
        if path == "/health":
            assert response.status_code == 200
        else:
            expect_error(response, 401, "unauthorized")


def test_the_key_never_appears_in_the_logs(
    http: httpx.Client, keyed_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn's loggers do not propagate to the root logger: hand them the capture directly.
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    levels = [lg.level for lg in uvicorn_loggers]
    for lg in uvicorn_loggers:
        lg.addHandler(caplog.handler)
        lg.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            for key in (KEY, KEY[:-1], f"{KEY}x"):
                headers = {"Authorization": f"Bearer {key}"}
                http.post(f"{keyed_url}/score", json={"texts": ["a"]}, headers=headers)
                http.get(f"{keyed_url}/no/such/route", headers=headers)
    finally:
        for lg, level in zip(uvicorn_loggers, levels, strict=True):
            lg.removeHandler(caplog.handler)
            lg.setLevel(level)
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "/score" in logged, "the requests were logged, so the check below means something"
    assert KEY[:-1] not in logged
