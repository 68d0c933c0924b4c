"""The judge service over real HTTP with the embedded SmolLM2-135M-Instruct."""

from __future__ import annotations

import httpx
import pytest

from services.judge.fluency import scramble

pytestmark = pytest.mark.slow
STORY = (
    "The steamboat came round the bend at noon, and the whole town ran down to the landing to "
    "see it. Jim had never seen one so close. He stood on a barrel to get a better look, and "
    "when the whistle blew he fell off it into the mud, and everybody laughed but the captain."
)


def judge(url: str, texts: list[str], **fields: object) -> dict:  # type: ignore[type-arg]
    response = httpx.post(f"{url}/score", json={"texts": texts, **fields}, timeout=600)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_coherent_passages_beat_their_scrambled_copies(
    judge_url: str, coherent_passages: list[str]
) -> None:
    scrambled = [scramble(p, seed=100 + i) for i, p in enumerate(coherent_passages)]
    scores = judge(judge_url, coherent_passages + scrambled)["scores"]
    wins = sum(a > b for a, b in zip(scores[:24], scores[24:], strict=True))
    assert wins >= 23, f"coherent text won {wins} of 24 pairs"


def test_details_carry_the_distribution_and_fluency(judge_url: str) -> None:
    body = judge(judge_url, [STORY], prompts=["Write about a steamboat."], details=True)
    detail = body["details"][0]
    distribution = detail["distribution"]
    assert list(distribution) == ["1", "2", "3", "4"]
    assert sum(distribution.values()) == pytest.approx(1.0)
    assert detail["argmax"] == max(distribution, key=distribution.get)
    assert 0 <= detail["rubric_score"] <= 1 and 0 <= detail["fluency"] <= 1
    assert detail["story_tokens"] > 50 and detail["truncated_tokens"] == 0
    assert detail["story_logprob"] < 0
    assert body["scores"][0] == pytest.approx(detail["score"])


def test_failed_checks_apply_the_rubrics_effect(judge_url: str) -> None:
    texts = [STORY, "As an AI language model, " + STORY, STORY + " Tom Sawyer saw it all."]
    body = judge(judge_url, texts, details=True)
    clean, meta, named = body["details"]
    assert clean["gates"] == {} and body["scores"][0] == pytest.approx(clean["ungated_score"])
    assert meta["gates"]["meta_commentary"]["effect"] == "minimum" and body["scores"][1] == 0
    assert named["gates"] == {
        "forbidden_names": {
            "found": "Tom Sawyer",
            "effect": "factor",
            "severity": 1.0,
            "factor": pytest.approx(0.25),
        }
    }
    assert body["scores"][2] == pytest.approx(0.25 * named["ungated_score"])


def test_an_unfinished_ending_costs_by_where_it_stops(judge_url: str) -> None:
    texts = [
        STORY,
        STORY + " Then the captain turned to Jim and asked:",
        STORY[: STORY.index(" he fell")],  # cut mid-sentence
    ]
    body = judge(judge_url, texts, details=True)
    whole, asked, cut = body["details"]
    assert "abrupt_ending" not in whole["checks_failed"]
    assert asked["gates"]["abrupt_ending"]["severity"] == 0.2
    assert asked["gates"]["abrupt_ending"]["factor"] == pytest.approx(0.85)
    assert cut["gates"]["abrupt_ending"]["severity"] == 1.0
    assert cut["gates"]["abrupt_ending"]["factor"] == pytest.approx(0.25)
    assert body["scores"][1] > body["scores"][2] > 0


def test_repetition_zeroes_fluency(judge_url: str) -> None:
    detail = judge(judge_url, [STORY * 6], details=True)["details"][0]
    assert "repetition" in detail["checks_failed"] and detail["fluency"] == 0.0


def test_a_story_longer_than_the_context_loses_its_middle(judge_url: str) -> None:
    long_story = " ".join(f"Day {i} on the river was quiet and warm." for i in range(700))
    detail = judge(judge_url, [long_story + " At last we reached the sea."], details=True)
    assert detail["details"][0]["truncated_tokens"] > 0


def test_repeated_stories_come_from_the_cache(judge_url: str) -> None:
    def hits() -> float:
        metrics = httpx.get(f"{judge_url}/metrics").text
        lines = metrics.splitlines()
        line = next(x for x in lines if x.startswith("stylegrpo_judge_cache_hits"))
        return float(line.split()[-1])

    story = STORY + " The captain waved."
    first = judge(judge_url, [story])["scores"]
    before = hits()
    assert judge(judge_url, [story])["scores"] == first
    assert hits() == before + 1


def test_the_judge_has_no_profiles(judge_url: str) -> None:
    response = httpx.post(f"{judge_url}/score", json={"texts": ["x"], "profile": "mark-twain"})
    assert response.status_code == 422 and "no profiles" in response.json()["error"]["message"]


def test_info_reports_rubric_and_calibration(judge_url: str) -> None:
    info = httpx.get(f"{judge_url}/info").json()
    assert info["service"] == "judge" and "SmolLM2" in info["model"]
    assert info["scorer"]["rubric"] == "narrative-v1@2"
    calibration = info["scorer"]["fluency_calibration"]
    assert calibration["same_mean"] > calibration["other_mean"] and calibration["auc"] > 0.9


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"texts": []}, 422, "texts"),
        ({"texts": ["a", "b"], "prompts": ["p"]}, 422, "prompts"),
        ({"texts": ["a"] * 300}, 413, "JUDGE_MAX_TEXTS"),
        ({"texts": ["a" * 200_001]}, 413, "JUDGE_MAX_CHARS"),
    ],
)
def test_bad_input_gets_the_shared_error_shape(
    judge_url: str,
    body: dict,
    status: int,
    named: str,  # type: ignore[type-arg]
) -> None:
    response = httpx.post(f"{judge_url}/score", json=body, timeout=60)
    assert response.status_code == status
    assert named in response.json()["error"]["message"]
