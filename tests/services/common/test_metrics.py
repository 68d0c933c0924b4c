"""`GET /metrics` over real HTTP: Prometheus text that counts what the service did."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families


def sample(
    http: httpx.Client, url: str, name: str, headers: dict[str, str] | None = None, **labels: str
) -> float:
    """The value of the sample `name` with (at least) `labels` on `/metrics`; 0 if absent."""
    response = http.get(f"{url}/metrics", headers=headers)
    assert response.status_code == 200
    values = [
        s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    ]
    assert len(values) <= 1, f"{name}{labels} matches {len(values)} samples"
    return values[0] if values else 0.0


@pytest.fixture
def fresh_url(serve_fake: Any) -> str:
    """A ready fake service of this test alone, so its counts are this test's."""
    url: str = serve_fake()
    return url


def test_metrics_are_prometheus_text(http: httpx.Client, fresh_url: str) -> None:
    response = http.get(f"{fresh_url}/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE stylegrpo_requests_total counter" in response.text
    assert "# TYPE stylegrpo_batch_texts histogram" in response.text


def test_scoring_counts_requests_texts_and_batch_sizes(http: httpx.Client, fresh_url: str) -> None:
    def score(texts: list[str]) -> None:
        assert http.post(f"{fresh_url}/score", json={"texts": texts}).status_code == 200

    score(["a", "b", "c"])
    score(["d", "e"])
    assert sample(http, fresh_url, "stylegrpo_requests_total", route="/score", status="200") == 2
    assert sample(http, fresh_url, "stylegrpo_texts_scored_total", service="fake") == 5
    assert sample(http, fresh_url, "stylegrpo_batch_texts_count", service="fake") == 2
    assert sample(http, fresh_url, "stylegrpo_batch_texts_sum", service="fake") == 5
    assert sample(http, fresh_url, "stylegrpo_batch_texts_bucket", le="2.0") == 1
    assert sample(http, fresh_url, "stylegrpo_request_seconds_count", route="/score") == 2


def test_rejected_requests_count_as_errors_not_as_texts_scored(
    http: httpx.Client, fresh_url: str
) -> None:
    assert http.post(f"{fresh_url}/score", json={"texts": []}).status_code == 422
    assert http.post(f"{fresh_url}/score", json={"texts": ["a"] * 5}).status_code == 413
    assert http.post(f"{fresh_url}/score", json={"texts": ["x" * 2000]}).status_code == 413
    assert http.get(f"{fresh_url}/no/such/route").status_code == 404
    assert sample(http, fresh_url, "stylegrpo_requests_total", route="/score", status="422") == 1
    assert sample(http, fresh_url, "stylegrpo_requests_total", route="/score", status="413") == 2
    assert sample(http, fresh_url, "stylegrpo_errors_total", status="413") == 2
    assert sample(http, fresh_url, "stylegrpo_errors_total", status="422") == 1
    assert sample(http, fresh_url, "stylegrpo_errors_total", status="404") == 1
    assert sample(http, fresh_url, "stylegrpo_texts_scored_total", service="fake") == 0
    assert sample(http, fresh_url, "stylegrpo_batch_texts_count", service="fake") == 0


def test_unknown_paths_share_one_route_label(http: httpx.Client, fresh_url: str) -> None:
    for path in ("/a", "/b/c", "/d?e=f"):
        http.get(f"{fresh_url}{path}")
    assert sample(http, fresh_url, "stylegrpo_requests_total", route="other", status="404") == 3
    metrics = http.get(f"{fresh_url}/metrics").text
    assert 'route="/a"' not in metrics and 'route="/b/c"' not in metrics


def test_refused_api_keys_are_counted_as_401s(http: httpx.Client, serve_fake: Any) -> None:
    url = serve_fake(api_key="k3y")
    assert http.get(f"{url}/info").status_code == 401
    key = {"Authorization": "Bearer k3y"}
    assert sample(http, url, "stylegrpo_requests_total", key, route="/info", status="401") == 1
    assert sample(http, url, "stylegrpo_errors_total", key, status="401") == 1
