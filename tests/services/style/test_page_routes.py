"""The scoring page's routes over real HTTP, with a style scorer that loads no model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.app import create_app
from services.style.scorer import StyleScorer
from services.style.settings import StyleSettings
from shared.child_processes import free_port
from shared.settings import SettingsError, load_settings

KEY = "page-test-key"
PAGE_FILES = {
    "/": "text/html; charset=utf-8",
    "/static/page.js": "text/javascript; charset=utf-8",
    "/static/page.css": "text/css; charset=utf-8",
}


class ModelFreeStyleScorer(StyleScorer):
    """The real style scorer, minus its model: the page's routes need none."""

    def load(self) -> None:
        """Load nothing, so the service is ready at once."""


@pytest.fixture
def serve_style_page(
    run_asgi: Callable[[Any], str], tmp_path: Path
) -> Callable[..., tuple[str, StyleSettings]]:
    """`url, settings = serve_style_page(**settings)`: a style service without a model."""

    def serve(**overrides: Any) -> tuple[str, StyleSettings]:
        settings = StyleSettings(books_dir=tmp_path, **overrides)
        # No waiting for /ready: the page's routes answer whether the scorer has loaded or not.
        url = run_asgi(create_app(settings=settings, scorer=ModelFreeStyleScorer(settings)))
        return url, settings

    return serve


def test_the_page_and_its_files_are_served_with_their_content_types(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
) -> None:
    url, _ = serve_style_page()
    for path, content_type in PAGE_FILES.items():
        response = httpx.get(f"{url}{path}")
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == content_type, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page = httpx.get(url).text
    assert '<script src="static/page.js" defer></script>' in page
    assert '<link rel="stylesheet" href="static/page.css">' in page
    assert "innerHTML" not in httpx.get(f"{url}/static/page.js").text


def test_the_page_needs_no_key_but_every_api_route_does(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
) -> None:
    url, _ = serve_style_page(api_key=KEY)
    for path in PAGE_FILES:
        assert httpx.get(f"{url}{path}").status_code == 200, path
    assert httpx.get(f"{url}/static/other.js").status_code == 404
    for method, path in [("POST", "/page/peers"), ("POST", "/score"), ("GET", "/info")]:
        response = httpx.request(method, f"{url}{path}", json={"texts": ["a"]})
        assert response.status_code == 401, path
        assert response.json()["error"]["type"] == "unauthorized"
    keyed = httpx.post(
        f"{url}/page/peers", json={"texts": ["a"]}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert keyed.status_code == 200, keyed.text


def test_peers_without_urls_name_the_settings_that_add_them(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
) -> None:
    url, _ = serve_style_page()
    response = httpx.post(f"{url}/page/peers", json={"texts": ["Once upon a time."]})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "peers": {},
        "not_configured": {
            "judge": "STYLE_PAGE_JUDGE_URL",
            "completeness": "STYLE_PAGE_COMPLETENESS_URL",
        },
    }


def test_peers_forward_to_completeness_and_report_a_dead_judge(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
    serve_completeness: Callable[[], tuple[str, Any]],
) -> None:
    completeness_url, _ = serve_completeness()
    dead_judge = f"http://127.0.0.1:{free_port()}"
    url, _ = serve_style_page(page_completeness_url=completeness_url, page_judge_url=dead_judge)
    texts = ["It was a fine morning.\n\nTHE END."]
    response = httpx.post(f"{url}/page/peers", json={"texts": texts, "profile": "mark-twain"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["not_configured"] == {}
    direct = httpx.post(f"{completeness_url}/score", json={"texts": texts}).json()
    completeness = body["peers"]["completeness"]
    assert completeness == {"model": direct["model"], "scores": direct["scores"], "error": None}
    judge = body["peers"]["judge"]
    assert judge["scores"] is None and judge["error"]["type"] == "peer_unavailable"
    assert dead_judge in judge["error"]["message"]


def test_a_peer_refusal_keeps_its_own_error_type(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
    serve_completeness: Callable[[], tuple[str, Any]],
) -> None:
    completeness_url, _ = serve_completeness()
    url, _ = serve_style_page(page_completeness_url=completeness_url)
    response = httpx.post(f"{url}/page/peers", json={"texts": ["x" * 200_001]}, timeout=30)
    error = response.json()["peers"]["completeness"]["error"]
    assert error["type"] == "peer_rejected:text_too_long"
    assert "COMPLETENESS_MAX_CHARS" in error["message"]


def test_page_routes_have_their_own_metrics_labels(
    serve_style_page: Callable[..., tuple[str, StyleSettings]],
) -> None:
    url, _ = serve_style_page()
    for path in PAGE_FILES:
        httpx.get(f"{url}{path}")
    httpx.post(f"{url}/page/peers", json={"texts": ["a"]})
    metrics = httpx.get(f"{url}/metrics").text
    for path in [*PAGE_FILES, "/page/peers"]:
        assert f'stylegrpo_requests_total{{route="{path}",status="200"}} 1.0' in metrics, path


def test_a_peer_url_without_a_scheme_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="STYLE_PAGE_JUDGE_URL"):
        load_settings(StyleSettings, books_dir=tmp_path, page_judge_url="127.0.0.1:8002")
