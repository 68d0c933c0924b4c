"""The shared contract through the completeness service: details, /info, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.client import RewardClient
from shared.schemas import CompletenessDetails, InfoResponse


def error_of(response: httpx.Response, status: int, error_type: str) -> str:
    """The message of a response in the one error shape, after checking status and type."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == error_type, error
    message: str = error["message"]
    return message


def test_details_hold_every_measure_of_each_text(band_url: str, score: Any, story: Any) -> None:
    texts = [story(1400), story(600, last_stop=",")]
    response = score(band_url, texts, details=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == "completeness" and body["model"] == "rules:band-v1"
    assert body["scores"] == [1.0, 0.25]
    first, second = (CompletenessDetails.model_validate(d) for d in body["details"])
    fields = {
        "words",
        "formula",
        "base",
        "end_marker_found",
        "loose_ending_found",
        "rules",
        "score",
    }
    assert set(body["details"][0]) == set(CompletenessDetails.model_fields) == fields
    assert list(first.rules) == ["truncation", "repetition", "trailing_junk"]
    assert (first.words, first.base, first.end_marker_found, first.score) == (1400, 1.0, True, 1.0)
    assert (second.words, second.base, second.score) == (600, 0.5, 0.25)
    assert second.rules["truncation"].penalty == 1.0


def test_without_details_only_scores_come_back(band_url: str, score: Any, story: Any) -> None:
    body = score(band_url, [story(1400)]).json()
    assert body["scores"] == [1.0] and body["details"] is None


def test_prompts_and_references_are_accepted_and_ignored(
    band_url: str, score: Any, story: Any
) -> None:
    response = score(band_url, [story(1400)], prompts=["Write a story."], references=["Ref."])
    assert response.status_code == 200 and response.json()["scores"] == [1.0]


def test_info_says_there_are_no_profiles_and_how_it_scores(band_url: str, http: Any) -> None:
    info = InfoResponse.model_validate(http.get(f"{band_url}/info").json())
    assert (info.service, info.model, info.ready) == ("completeness", "rules:band-v1", True)
    assert info.profiles == [] and info.default_profile is None
    assert info.scorer["formula"] == "band" and info.scorer["band_words"] == [1200, 1600]
    assert info.scorer["weights"] == {"truncation": 0.5, "repetition": 1.0, "trailing_junk": 1.0}


def test_the_client_scores_big_batches_in_order(band_url: str, story: Any) -> None:
    lengths = [100 * (i % 16 + 1) for i in range(200)]
    texts = [story(words) for words in lengths]

    async def scores() -> list[float]:
        async with RewardClient(band_url, max_batch=64) as client:
            return (await client.score(texts)).scores

    assert asyncio.run(scores()) == [min(1.0, words / 1200) for words in lengths]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"texts": []}, "texts"), ({"texts": ["ok", 3]}, "texts.1"), ({}, "texts")],
)
def test_malformed_requests_are_422_naming_the_field(
    band_url: str, http: Any, body: dict[str, Any], field: str
) -> None:
    message = error_of(http.post(f"{band_url}/score", json=body), 422, "validation_error")
    assert message.startswith(f"{field}:"), message


def test_too_many_texts_is_413_naming_the_variable(
    serve_completeness: Any, score: Any, story: Any
) -> None:
    url = serve_completeness(max_texts=2)
    message = error_of(score(url, ["a", "b", "c"]), 413, "too_many_texts")
    assert "COMPLETENESS_MAX_TEXTS" in message


def test_a_profile_is_422_saying_there_are_none(band_url: str, score: Any) -> None:
    message = error_of(score(band_url, ["text"], profile="mark-twain"), 422, "invalid_request")
    assert "no profiles" in message and "'mark-twain'" in message
