"""The scoring page in a headless Chromium, against real style, judge and completeness services.

Playwright drives Debian's Chromium (`/usr/bin/chromium`); its own browsers are never downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from services.common.app import create_app
from services.completeness.service import build_completeness_service
from services.launcher import wait_ready
from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_WORDS = 400
STYLE_READY_TIMEOUT_S = 900  # the first run builds the profile cache on 2 CPU cores
ANSWER_TIMEOUT_MS = 300_000  # the judge reads a 400-word story on CPU
HOSTILE_TEXT = '<img src=x onerror="window.injected = 1">Tom &amp; <b>Huck</b> said "hi".'


def first_words(text: str, count: int = PAGE_WORDS) -> str:
    """The first `count` words of `text`, its own spacing kept."""
    return "".join(re.findall(r"\S+\s*", text)[:count])


def agrees(shown: str, value: float) -> bool:
    """Whether a number shown on the page is `value` at the page's own precision."""
    decimals = len(shown.partition(".")[2])
    return abs(float(shown) - value) <= 0.5 * 10**-decimals + 1e-12


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; first among the test's fixtures, so a skip costs no model load."""
    if not CHROMIUM.is_file():
        pytest.skip(f"no {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def service_urls(
    chromium: Path,
    style_settings: StyleSettings,
    judge_url: str,
    run_asgi_session: Callable[[Any], str],
) -> dict[str, str]:
    """A style service whose page also shows the judge's and completeness' scores, and those."""
    completeness_settings, completeness = build_completeness_service()
    completeness_url = run_asgi_session(
        create_app(settings=completeness_settings, scorer=completeness)
    )
    wait_ready(completeness_url, 30)
    settings = style_settings.model_copy(
        update={"page_judge_url": judge_url, "page_completeness_url": completeness_url}
    )
    style_url = run_asgi_session(create_app(settings=settings, scorer=StyleScorer(settings)))
    wait_ready(style_url, STYLE_READY_TIMEOUT_S)
    return {"style": style_url, "judge": judge_url, "completeness": completeness_url}


@pytest.fixture
def page(chromium: Path) -> Iterator[Page]:
    """A Chromium tab; fails the test on any script error or blocked content."""
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.set_default_timeout(ANSWER_TIMEOUT_MS)
            tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            tab.on(
                "console",
                lambda message: (
                    problems.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            yield tab
        finally:
            browser.close()
    assert not problems, problems


def score_on_page(page: Page, text: str, profile: str) -> None:
    """Fill in the form, press Score, and wait until the page has shown both answers."""
    page.fill("#text", text)
    page.select_option("#profile", profile)
    with (
        page.expect_response(lambda r: r.url.endswith("/score")),
        page.expect_response(lambda r: r.url.endswith("/page/peers")),
    ):
        page.click("#score-button")
    # Locator waits, not `wait_for_function`: the page's CSP forbids the eval that one needs.
    status = page.locator("#status")
    expect(status).not_to_have_attribute("data-state", "scoring", timeout=ANSWER_TIMEOUT_MS)


def shown_fields(page: Page, table: str) -> dict[str, str]:
    """The value cells of a field table on the page, by field name (folded tables too)."""
    cells = page.locator(f"{table} td[data-field]")
    return {
        cell.get_attribute("data-field") or "": (cell.text_content() or "").strip()
        for cell in cells.all()
    }


def check_shading(page: Page, text: str, windows: list[dict[str, Any]]) -> int:
    """Each run of the shaded text has the lowest score of the windows covering it; runs shaded."""
    runs = page.eval_on_selector_all(
        "#shaded-text span",
        """spans => spans.map(s => ({shaded: s.classList.contains('shade'),
            start: Number(s.dataset.start), end: Number(s.dataset.end),
            score: s.dataset.score === undefined ? null : Number(s.dataset.score),
            colour: getComputedStyle(s).backgroundColor, text: s.textContent}))""",
    )
    assert "".join(run["text"] for run in runs) == text
    lowest: list[float | None] = [None] * len(text)
    for window in windows:
        for i in range(window["start"], min(window["end"], len(text))):
            current = lowest[i]
            lowest[i] = window["score"] if current is None else min(current, window["score"])
    for run in runs:
        assert run["text"] == text[run["start"] : run["end"]]
        assert set(lowest[run["start"] : run["end"]]) == {run["score"]}, run
        assert run["shaded"] == (run["score"] is not None)
    shaded = [run for run in runs if run["shaded"]]
    weakest = min(shaded, key=lambda run: run["score"])
    strongest = max(shaded, key=lambda run: run["score"])
    if strongest["score"] - weakest["score"] > 0.1:
        assert weakest["colour"] != strongest["colour"]
    return len(shaded)


def check_against_the_apis(page: Page, urls: dict[str, str], text: str, profile: str) -> None:
    """Every number the page shows is what the services answer for the same text."""
    style = httpx.post(
        f"{urls['style']}/score",
        json={"texts": [text], "profile": profile, "details": True},
        timeout=300,
    ).json()
    assert agrees(page.inner_text("#style-score"), style["scores"][0])
    for service in ("judge", "completeness"):
        direct = httpx.post(f"{urls[service]}/score", json={"texts": [text]}, timeout=300).json()
        assert agrees(page.inner_text(f"#{service}-score"), direct["scores"][0]), service
    info = httpx.get(f"{urls['style']}/info").json()
    assert page.inner_text("#calibration-profile") == profile
    for source in ("calibration", "classifier"):
        fields = shown_fields(page, f'#calibration table[data-source="{source}"]')
        expected = info["scorer"][source][profile]
        assert fields.keys() == expected.keys(), source
        for name, shown in fields.items():
            if expected[name] is None:  # e.g. policy_auc of a service without policy texts
                assert shown == "—", (source, name, shown)
            else:
                assert agrees(shown, expected[name]), (source, name, shown)
    details = style["details"][0]
    copy = shown_fields(page, "#copy-guard")
    assert copy.keys() == {
        "copied_fraction",
        "longest_copied_words",
        "copy_penalty_factor",
        "known_ngram_fraction",
        "prose_factor",
        "repeated_bigram_fraction",
        "repetition_factor",
    }
    for name, shown in copy.items():
        assert agrees(shown, details[name]), (name, shown)
    assert check_shading(page, text, details["windows"]) > 0
    check_reasons(page, details["reasons"])
    expect(page.locator("#score-meaning")).to_be_visible()
    expect(page.locator("#legend")).to_be_visible()
    later_windows = [w for w in details["windows"] if w["start"] > 0]
    assert page.locator("#shaded-text .window-start").count() == len(
        {w["start"] for w in later_windows}
    )


def check_reasons(page: Page, reasons: list[str]) -> None:
    """The service's reasons for cutting the score are on the page, visible, beside the score;
    no list at all when nothing cut it."""
    shown = page.locator("#style-card #style-reasons li")
    if not reasons:
        expect(page.locator("#style-reasons")).to_be_hidden()
        return
    expect(page.locator("#style-reasons")).to_be_visible()
    assert shown.all_inner_texts() == reasons


def test_the_page_shows_what_the_services_answer(
    service_urls: dict[str, str],
    page: Page,
    twain_passages: list[str],
    doyle_passages: list[str],
    profile_books: Path,
    tmp_path: Path,
) -> None:
    url = service_urls["style"]
    page.goto(url)
    info = httpx.get(f"{url}/info").json()
    page.locator("#profile option").first.wait_for(state="attached")
    options = page.eval_on_selector_all("#profile option", "os => os.map(o => o.value)")
    assert options == info["profiles"]
    assert page.input_value("#profile") == info["default_profile"] == "mark-twain"
    assert page.inner_text("#service-line").startswith(f"style service · model {info['model']}")
    texts = {
        "twain": (first_words(twain_passages[0]), "mark-twain"),
        # Against Twain's profile too: the screenshot should show what weak passages look like.
        "doyle": (first_words(doyle_passages[0]), "mark-twain"),
        # A profile book pasted in: windows like the author, a score of 0 and the reason why.
        "copied": (first_words(huck_finn(profile_books)[20_000:], 300), "mark-twain"),
    }
    for name, (text, profile) in texts.items():
        score_on_page(page, text, profile)
        assert page.inner_text("#errors") == ""
        check_against_the_apis(page, service_urls, text, profile)
        if name == "copied":
            assert page.inner_text("#style-score") == "0.0000"
            assert "copied: " in page.inner_text("#style-reasons")
        screenshot = tmp_path / f"scoring-page-{name}.png"
        page.screenshot(path=screenshot, full_page=True)
        print(f"screenshot of the {name} passage: {screenshot}")


def test_the_page_shows_text_as_text_and_the_apis_errors(
    service_urls: dict[str, str], page: Page
) -> None:
    url = service_urls["style"]
    page.goto(url)
    page.locator("#profile option").first.wait_for(state="attached")
    score_on_page(page, HOSTILE_TEXT, "arthur-conan-doyle")
    assert page.inner_text("#calibration-profile") == "arthur-conan-doyle"
    assert page.inner_text("#shaded-text") == HOSTILE_TEXT
    assert page.locator("#shaded-text img, #shaded-text b").count() == 0
    assert page.evaluate("() => window.injected") is None

    too_long = "x" * (info_limit(url) + 1)
    score_on_page(page, too_long, "mark-twain")
    error = httpx.post(f"{url}/score", json={"texts": [too_long]}).json()["error"]
    shown = page.inner_text("#errors")
    assert f"POST /score → 413 {error['type']}: {error['message']}" in shown
    assert page.is_hidden("#style-card")
    assert page.inner_text("#status").startswith("Refused or failed after ")
    for service in ("judge", "completeness"):
        card = page.inner_text(f'.peer-card[data-service="{service}"]')
        assert "peer_rejected:text_too_long" in card and f"{service.upper()}_MAX_CHARS" in card


def info_limit(url: str) -> int:
    """The most characters the style service accepts in one text."""
    limit: int = httpx.get(f"{url}/info").json()["limits"]["max_chars"]
    return limit


def huck_finn(books: Path) -> str:
    """Adventures of Huckleberry Finn as the profile's books hold it."""
    return (books / "mark-twain--adventures-of-huckleberry-finn.txt").read_text(encoding="utf-8")
