"""The shared routes over real HTTP: /score, /info, unknown routes and the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import httpx
import pytest

from shared.schemas import InfoResponse

TEXTS = ["short", "a somewhat longer text", ""]


def post_score(http: httpx.Client, url: str, body: Any) -> httpx.Response:
    return http.post(f"{url}/score", json=body)


def test_score_returns_one_score_per_text_in_order(http: httpx.Client, fake_url: str) -> None:
    response = post_score(http, fake_url, {"texts": TEXTS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scores"] == [0.05, 0.22, 0.0]
    assert body["service"] == "fake" and body["model"] == "fake-model-1"
    assert body["details"] is None


def test_score_returns_details_only_when_asked(http: httpx.Client, fake_url: str) -> None:
    body = post_score(
        http, fake_url, {"texts": TEXTS[:2], "details": True, "profile": "fancy"}
    ).json()
    assert body["details"] == [
        {"chars": 5, "profile": "fancy"},
        {"chars": 22, "profile": "fancy"},
    ]
    assert (
        post_score(http, fake_url, {"texts": TEXTS[:2], "details": False}).json()["details"] is None
    )


def test_score_accepts_parallel_prompts_and_references(http: httpx.Client, fake_url: str) -> None:
    body = {"texts": ["a", "bb"], "prompts": ["p", "q"], "references": ["r", "s"]}
    assert post_score(http, fake_url, body).json()["scores"] == [0.01, 0.02]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"texts": []}, "texts: List should have at least 1 item"),
        ({"texts": ["ok", 7]}, "texts.1: Input should be a valid string"),
        ({"texts": ["ok"], "details": "yes"}, "details: Input should be a valid boolean"),
        ({"texts": ["a", "b"], "prompts": ["p"]}, "`prompts` has 1 items but `texts` has 2"),
        ({"texts": ["a"], "references": ["r", "s"]}, "`references` has 2 items"),
        ({"texts": ["a"], "temperature": 0.5}, "temperature: Extra inputs are not permitted"),
        ({"text": ["a"]}, "texts: Field required"),
        ({"texts": ["a"], "profile": ""}, "profile: String should have at least 1 character"),
    ],
    ids=[
        "empty-texts",
        "non-string-text",
        "details-not-bool",
        "prompts-not-parallel",
        "references-not-parallel",
        "unknown-field",
        "texts-missing",
        "empty-profile",
    ],
)
def test_malformed_score_request_is_422_naming_the_field(
    http: httpx.Client, fake_url: str, expect_error: Any, body: dict[str, Any], named: str
) -> None:
    message = expect_error(post_score(http, fake_url, body), 422, "validation_error")
    assert named in message


def test_body_that_is_not_json_is_400_saying_where(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = http.post(
        f"{fake_url}/score",
        content=b'{"texts": ["unterminated',
        headers={"Content-Type": "application/json"},
    )
    assert expect_error(response, 400, "invalid_json") == (
        "the body is not valid JSON: Unterminated string starting at character 11 "
        "(line 1, column 12)"
    )


def test_unknown_profile_is_422_invalid_request(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = post_score(http, fake_url, {"texts": ["a"], "profile": "nobody"})
    message = expect_error(response, 422, "invalid_request")
    assert "unknown profile 'nobody'" in message and "plain" in message


def test_more_texts_than_max_texts_is_413_naming_the_setting(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = post_score(http, fake_url, {"texts": ["a"] * 5})
    message = expect_error(response, 413, "too_many_texts")
    assert "`texts` has 5 items" in message and "at most 4" in message
    assert "FAKE_MAX_TEXTS" in message


def test_text_longer_than_max_chars_is_413_naming_the_text(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = post_score(http, fake_url, {"texts": ["ok", "x" * 51]})
    message = expect_error(response, 413, "text_too_long")
    assert "texts[1] has 51 characters" in message and "FAKE_MAX_CHARS" in message


def test_prompt_longer_than_max_chars_is_413_naming_the_prompt(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = post_score(http, fake_url, {"texts": ["ok"], "prompts": ["p" * 60]})
    message = expect_error(response, 413, "text_too_long")
    assert "prompts[0] has 60 characters" in message and "FAKE_MAX_CHARS" in message


def test_text_of_exactly_max_chars_is_scored(http: httpx.Client, fake_url: str) -> None:
    response = post_score(http, fake_url, {"texts": ["x" * 50] * 4})
    assert response.status_code == 200 and response.json()["scores"] == [0.5] * 4


def test_info_reports_limits_profiles_and_version(http: httpx.Client, fake_url: str) -> None:
    response = http.get(f"{fake_url}/info")
    assert response.status_code == 200
    info = InfoResponse.model_validate(response.json())
    assert info.ready and info.service == "fake" and info.model == "fake-model-1"
    assert info.profiles == ["plain", "fancy"] and info.default_profile == "plain"
    assert info.limits.model_dump() == {"max_texts": 4, "max_chars": 50, "max_body_bytes": 1024}
    assert info.version == version("stylegrpo")
    assert info.scorer == {"rule": "len(text) % 100 / 100"}


def test_unknown_route_is_404_in_the_error_shape(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    assert expect_error(http.get(f"{fake_url}/nope"), 404, "http_error") == "Not Found"


def test_wrong_method_is_405_in_the_error_shape(
    http: httpx.Client, fake_url: str, expect_error: Any
) -> None:
    response = http.get(f"{fake_url}/score")
    assert expect_error(response, 405, "http_error") == "Method Not Allowed"
    assert response.headers["Allow"] == "POST"


def test_openapi_documents_score_with_its_request_and_error_shapes(
    http: httpx.Client, fake_url: str
) -> None:
    doc = http.get(f"{fake_url}/openapi.json").json()
    score = doc["paths"]["/score"]["post"]
    request_schema = score["requestBody"]["content"]["application/json"]["schema"]
    assert request_schema == {"$ref": "#/components/schemas/ScoreRequest"}
    schemas = doc["components"]["schemas"]
    assert {"texts", "prompts", "references", "profile", "details"} == set(
        schemas["ScoreRequest"]["properties"]
    )
    assert schemas["ScoreRequest"]["additionalProperties"] is False
    assert score["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoreResponse"
    }
    for status in ("413", "422", "503"):
        error_schema = score["responses"][status]["content"]["application/json"]["schema"]
        assert error_schema == {"$ref": "#/components/schemas/ErrorResponse"}, status
