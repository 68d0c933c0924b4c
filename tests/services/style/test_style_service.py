"""The style service over real HTTP with the packaged MiniLM and real books."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from services.style.settings import StyleSettings
from shared.client import RequestRejectedError, RewardClient
from shared.schemas import InfoResponse, StyleDetails

pytestmark = pytest.mark.slow


def score(url: str, texts: list[str], **fields: object) -> httpx.Response:
    return httpx.post(f"{url}/score", json={"texts": texts, **fields}, timeout=300)


def test_a_1500_word_story_is_judged_in_full(style_url: str, twain_passages: list[str]) -> None:
    text = twain_passages[0]
    assert len(text.split()) == 1500
    response = score(style_url, [text], details=True)
    assert response.status_code == 200, response.text
    body = response.json()
    details = StyleDetails.model_validate(body["details"][0])
    assert details.coverage == 1.0
    assert details.mode == "profile" and details.profile == "mark-twain"
    assert len(details.windows) >= 7
    assert details.windows[0].start == 0 and details.windows[-1].end == len(text.rstrip())
    assert all(0 <= w.score <= 1 and w.tokens <= 254 for w in details.windows)
    assert 0 <= body["scores"][0] <= 1


def test_twain_scores_above_conan_doyle_against_the_twain_profile(
    style_url: str, twain_passages: list[str], doyle_passages: list[str]
) -> None:
    scores = score(style_url, twain_passages + doyle_passages).json()["scores"]
    twain, doyle = scores[:3], scores[3:]
    assert min(twain) > max(doyle), (twain, doyle)


def test_conan_doyle_scores_above_twain_against_the_doyle_profile(
    style_url: str, twain_passages: list[str], doyle_passages: list[str]
) -> None:
    response = score(style_url, twain_passages + doyle_passages, profile="arthur-conan-doyle")
    scores = response.json()["scores"]
    assert min(scores[3:]) > max(scores[:3]), scores


def test_reference_mode_scores_against_each_rows_reference(
    style_url: str, twain_passages: list[str], doyle_passages: list[str]
) -> None:
    texts = [twain_passages[0], doyle_passages[0]]
    references = [twain_passages[1], doyle_passages[1]]
    response = score(style_url, texts, references=references, details=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["mode"] for d in body["details"]] == ["reference", "reference"]
    assert all(d["copied_fraction"] < 0.05 for d in body["details"])
    crossed = score(style_url, texts, references=references[::-1]).json()["scores"]
    assert crossed[0] < body["scores"][0] and crossed[1] < body["scores"][1]


def test_copying_the_reference_is_penalised(style_url: str, twain_passages: list[str]) -> None:
    text = twain_passages[0]
    body = score(style_url, [text], references=[text], details=True).json()
    details = StyleDetails.model_validate(body["details"][0])
    assert details.copied_fraction == 1.0 and details.copy_penalty_factor == 0.0
    assert body["scores"][0] == 0.0


def test_a_passage_copied_from_a_profile_book_scores_far_below_held_out_writing(
    style_url: str, profile_books: Path, twain_passages: list[str]
) -> None:
    profile_book = sorted(profile_books.glob("mark-twain--*.txt"))[0]
    words = profile_book.read_text(encoding="utf-8").split()
    copied = " ".join(words[len(words) // 2 : len(words) // 2 + 400])
    held_out = " ".join(twain_passages[0].split()[:400])
    body = score(style_url, [copied, held_out], details=True).json()
    copied_details, held_out_details = (StyleDetails.model_validate(d) for d in body["details"])
    assert copied_details.copied_fraction is not None and copied_details.copied_fraction > 0.9
    assert (copied_details.longest_copied_words or 0) > 300
    assert held_out_details.copied_fraction is not None
    assert held_out_details.copied_fraction < 0.05 and held_out_details.copy_penalty_factor == 1.0
    assert body["scores"][0] < 0.1 * body["scores"][1], body["scores"]


def test_concurrent_single_text_requests_match_one_batch(
    style_url: str, twain_passages: list[str], doyle_passages: list[str]
) -> None:
    texts = (twain_passages + doyle_passages) * 2

    async def one_by_one() -> list[float]:
        async with RewardClient(style_url) as client:
            responses = await asyncio.gather(*(client.score([t]) for t in texts))
        return [r.scores[0] for r in responses]

    batched = score(style_url, texts).json()["scores"]
    assert asyncio.run(one_by_one()) == pytest.approx(batched, abs=1e-4)


def test_style_specific_bad_input_is_a_clear_422(style_url: str) -> None:
    unknown = score(style_url, ["text"], profile="charles-dickens")
    assert unknown.status_code == 422
    assert "charles-dickens" in unknown.json()["error"]["message"]
    assert "mark-twain" in unknown.json()["error"]["message"]
    both = score(style_url, ["text"], profile="mark-twain", references=["ref"])
    assert both.status_code == 422 and "either" in both.json()["error"]["message"]
    empty_reference = score(style_url, ["text"], references=["   "])
    assert empty_reference.status_code == 422
    assert "references[0]" in empty_reference.json()["error"]["message"]


def test_empty_text_scores_zero(style_url: str) -> None:
    body = score(style_url, ["", "A river."], details=True).json()
    assert body["scores"][0] == 0.0 and body["details"][0]["windows"] == []


def test_info_reports_the_fitted_calibration(style_url: str) -> None:
    info = InfoResponse.model_validate(httpx.get(f"{style_url}/info").json())
    assert info.ready and info.default_profile == "mark-twain"
    assert {"mark-twain", "arthur-conan-doyle", "pg-wodehouse"} <= set(info.profiles)
    twain = info.scorer["calibration"]["mark-twain"]
    assert twain["auc"] > 0.8 and twain["slope"] > 0
    assert twain["same_mean"] > twain["other_mean"]
    assert info.scorer["window_tokens"] == 254
    stacked = info.scorer["classifier"]["mark-twain"]
    assert stacked["auc"] >= stacked["similarity_auc"] and stacked["classifier_weight"] > 0


def test_profile_windows_carry_the_classifiers_log_odds(
    style_url: str, twain_passages: list[str], doyle_passages: list[str]
) -> None:
    body = score(style_url, [twain_passages[0], doyle_passages[0]], details=True).json()
    twain, doyle = ([w["classifier"] for w in details["windows"]] for details in body["details"])
    assert all(value is not None for value in twain + doyle)
    assert sum(twain) / len(twain) > sum(doyle) / len(doyle)


def test_client_surfaces_the_services_message(style_url: str) -> None:
    async def ask() -> None:
        async with RewardClient(style_url) as client:
            await client.score(["text"], profile="nobody")

    with pytest.raises(RequestRejectedError, match="unknown profile 'nobody'"):
        asyncio.run(ask())


@pytest.mark.slow
def test_an_overlap_of_half_a_window_is_refused_naming_the_variable(
    style_settings: StyleSettings,
) -> None:
    from services.style.scorer import StyleScorer

    settings = style_settings.model_copy(update={"window_overlap_tokens": 127})
    with pytest.raises(ValueError, match=r"STYLE_WINDOW_OVERLAP_TOKENS=127 .* below 127"):
        StyleScorer(settings).load()


@pytest.mark.slow
def test_a_temperature_softens_scores_and_keeps_their_order(
    style_url: str,
    style_settings: StyleSettings,
    twain_passages: list[str],
    doyle_passages: list[str],
) -> None:
    from services.style.scorer import StyleScorer
    from shared.schemas import ScoreRequest

    texts = [twain_passages[0], doyle_passages[0]]
    calibrated = score(style_url, texts).json()["scores"]
    scorer = StyleScorer(style_settings.model_copy(update={"score_temperature": 4.0}))
    scorer.load()  # the profiles and classifier come from the service's cache

    async def score_softened() -> list[float]:
        try:
            return (await scorer.score(ScoreRequest(texts=texts))).scores
        finally:
            await scorer.aclose()

    softened = asyncio.run(score_softened())
    assert softened[0] > softened[1]
    assert abs(softened[0] - 0.5) < abs(calibrated[0] - 0.5)
    assert abs(softened[1] - 0.5) < abs(calibrated[1] - 0.5)


def test_texts_under_30_words_never_score_above_half(
    style_url: str, twain_passages: list[str]
) -> None:
    """Too little text to tell an author by scores the evidence prior, whatever it says."""
    twain_openings = [" ".join(p.split()[:29]) for p in twain_passages]
    texts = [
        "a b c",
        "In today's fast-paced world, self-care is more important than ever.",
        "We floated down the river on the raft all night and the towhead was dark and still.",
        *twain_openings,
    ]
    body = score(style_url, texts, details=True).json()
    assert max(body["scores"]) <= 0.5, body["scores"]
    assert all(d["evidence_weight"] == 0.0 for d in body["details"])
    long = score(style_url, [twain_passages[0]], details=True).json()
    assert long["details"][0]["evidence_weight"] == 1.0


def test_typography_alone_moves_no_score(style_url: str, twain_passages: list[str]) -> None:
    """Curly quotes, em-dashes, one-line paragraphs: the same passage, the same score; and the
    window offsets still index the text as it was sent."""
    from trainer.style_encoder.authorship_attacks import book_typography, llm_typography

    books = [book_typography(" ".join(p.split()[:400])) for p in twain_passages]
    retyped = [llm_typography(p) for p in books]
    assert retyped[0] != books[0]
    body = score(style_url, books + retyped + [book_typography(t) for t in retyped], details=True)
    scores = body.json()["scores"]
    for i in range(len(books)):
        assert abs(scores[i + len(books)] - scores[i]) <= 0.01, scores
        assert abs(scores[i + 2 * len(books)] - scores[i]) <= 0.01, scores
    windows = StyleDetails.model_validate(body.json()["details"][len(books)]).windows
    text = retyped[0]
    assert windows[0].start == 0 and windows[-1].end == len(text)
    assert all(text[w.start].strip() and text[w.end - 1].strip() for w in windows)
