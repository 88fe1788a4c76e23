"""Body limits (413, 415), Prometheus metrics, and paging by ``next_url``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.limits import MAX_BODY_BYTES
from projections.tables import checkpoints
from tests.api.helpers import PROBLEM_JSON, assert_problem, declare, nothing_stored, ok

INCIDENT = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}
TOO_LARGE = f"request bodies are limited to {MAX_BODY_BYTES} bytes"


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body of ``total`` bytes as a generator, which httpx sends chunked (no length)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b" " * part


# --- 413 -----------------------------------------------------------------------------------


def test_a_declared_length_over_1_mib_is_413_before_the_body_is_read(client: TestClient) -> None:
    incident_id = declare(client)
    body = b'{"text": "' + b"x" * MAX_BODY_BYTES + b'"}'
    with nothing_stored(client):
        for method, path in [
            ("POST", "/incidents"),
            ("POST", f"/incidents/{incident_id}/notes"),
            ("PUT", f"/incidents/{incident_id}/services"),
            ("PATCH", f"/incidents/{incident_id}/timeline/{uuid4()}"),
        ]:
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert_problem(response, 413, TOO_LARGE)
            assert response.json()["title"] == "Content Too Large"


def test_a_chunked_body_over_1_mib_is_413(client: TestClient) -> None:
    with nothing_stored(client):
        response = client.post(
            "/incidents",
            content=chunks(MAX_BODY_BYTES + 1),
            headers={"Content-Type": "application/json"},
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, TOO_LARGE)


def test_a_413_needs_no_token(client: TestClient) -> None:
    """The limit is enforced before anything else, authentication included."""
    anonymous = TestClient(client.app)
    response = anonymous.post(
        "/incidents",
        content=chunks(2 * MAX_BODY_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413, TOO_LARGE)


def test_bodies_up_to_the_limit_pass_declared_and_chunked(client: TestClient) -> None:
    """A body of exactly 1 MiB is allowed; a chunked one reaches the route intact."""
    summary = "x" * 10_000
    padded = '{"title": "Checkout returns 502", "severity": "SEV2", "summary": "' + summary + '"}'
    body = padded.encode().ljust(MAX_BODY_BYTES, b" ")
    assert len(body) == MAX_BODY_BYTES
    exact = client.post("/incidents", content=body, headers={"Content-Type": "application/json"})
    incident_id = ok(exact, 201)["id"]
    assert ok(client.get(f"/incidents/{incident_id}"))["summary"] == summary

    def streamed() -> Iterator[bytes]:
        yield b'{"title": "Streamed", '
        yield b'"severity": "SEV3", '
        yield b'"services": ["a", "b"]}'

    response = client.post(
        "/incidents", content=streamed(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    streamed_id = ok(response, 201)["id"]
    fetched = ok(client.get(f"/incidents/{streamed_id}"))
    assert (fetched["title"], fetched["severity"], fetched["services"]) == (
        "Streamed",
        "SEV3",
        ["a", "b"],
    )


# --- 415 -----------------------------------------------------------------------------------


NOT_JSON = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/json",
    "application/jsonx",
]


def test_a_body_that_is_not_json_is_415(client: TestClient) -> None:
    incident_id = declare(client)
    with nothing_stored(client):
        for content_type in NOT_JSON:
            for method, path in [
                ("POST", "/incidents"),
                ("PUT", f"/incidents/{incident_id}/services"),
                ("PATCH", f"/incidents/{incident_id}/timeline/{uuid4()}"),
            ]:
                response = client.request(
                    method, path, content=b'{"text": "x"}', headers={"Content-Type": content_type}
                )
                media = content_type.split(";")[0]
                assert_problem(response, 415, f"send application/json, not {media!r}")


JSON = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/merge-patch+json",
]


def test_json_media_types_are_accepted(client: TestClient) -> None:
    for content_type in JSON:
        response = client.post(
            "/incidents",
            content=b'{"title": "Checkout returns 502", "severity": "SEV2"}',
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)


def test_a_command_without_a_body_needs_no_content_type(client: TestClient) -> None:
    """Acknowledge has an optional body: an empty POST with any content type is fine."""
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/acknowledge", headers={"Content-Type": "text/plain"}))
    # GET and DELETE are not checked: a 405 stays a 405 whatever the content type.
    response = client.request(
        "DELETE", f"/incidents/{incident_id}", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 405)


# --- metrics -------------------------------------------------------------------------------


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of GET /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return samples


def requests_total(samples: Samples, method: str, route: str, status: int) -> float:
    key = (
        "incidents_http_requests_total",
        (("method", method), ("route", route), ("status", str(status))),
    )
    return samples.get(key, 0.0)


def test_metrics_count_requests_by_route_template_appends_and_lag(client: TestClient) -> None:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "Rolled back"}), 201)
    ok(client.get(f"/incidents/{incident_id}"))
    ok(client.get(f"/incidents/{incident_id}"))
    missing = uuid4()
    assert_problem(client.get(f"/incidents/{missing}"), 404)
    assert_problem(client.get("/no-such-route"), 404)
    assert_problem(TestClient(client.app).get("/incidents"), 401)
    # Three events: one to declare, one note, and a status change.
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "identified"}))

    samples = scrape(client)

    assert requests_total(samples, "POST", "/incidents", 201) == 1
    assert requests_total(samples, "POST", "/incidents/{incident_id}/notes", 201) == 1
    assert requests_total(samples, "GET", "/incidents/{incident_id}", 200) == 2
    assert requests_total(samples, "GET", "/incidents/{incident_id}", 404) == 1
    assert requests_total(samples, "GET", "/incidents", 401) == 1
    assert requests_total(samples, "GET", "unmatched", 404) == 1
    text = repr(samples)
    assert incident_id not in text, "routes are templates, not URLs"
    assert str(missing) not in text
    assert "/no-such-route" not in text, "unknown paths must not become label values"

    count = (
        "incidents_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/incidents/{incident_id}")),
    )
    assert samples[count] == 3
    inf = (
        "incidents_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("route", "/incidents/{incident_id}")),
    )
    assert samples[inf] == 3
    assert samples[("incidents_http_request_duration_seconds_sum", count[1])] > 0

    assert samples[("incidents_events_appended_total", ())] == 3
    lags = {
        dict(labels)["projection"]: value
        for (name, labels), value in samples.items()
        if name == "incidents_projection_lag_events"
    }
    assert {"incident_summary", "timeline"} <= set(lags)
    assert set(lags.values()) == {0}, "inline projections never lag"

    # The scrape itself is counted once it has been answered.
    assert requests_total(scrape(client), "GET", "/metrics", 200) == 1


def test_metrics_count_refusals_and_lag_shows_events_not_yet_projected(
    client: TestClient,
) -> None:
    ok(client.post("/incidents", json=INCIDENT), 201)
    ok(client.post("/incidents", json=INCIDENT), 201)
    client.post("/incidents", content=b"x", headers={"Content-Type": "text/plain"})
    client.post("/incidents", json={"title": ""})

    samples = scrape(client)
    assert requests_total(samples, "POST", "/incidents", 201) == 2
    assert requests_total(samples, "POST", "/incidents", 422) == 1
    refused = sum(
        value
        for (name, labels), value in samples.items()
        if name == "incidents_http_requests_total" and dict(labels)["status"] == "415"
    )
    assert refused == 1
    assert samples[("incidents_events_appended_total", ())] == 2

    # Move the checkpoint of one projection back: the lag is read live on every scrape.
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            checkpoints.update().where(checkpoints.c.name == "timeline").values(position=0)
        )
    lagging = scrape(client)
    assert lagging[("incidents_projection_lag_events", (("projection", "timeline"),))] == 2
    assert lagging[("incidents_projection_position", (("projection", "timeline"),))] == 0


# --- paging by next_url --------------------------------------------------------------------


def follow(client: TestClient, url: str, key: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item of every page from ``url`` on, and the page URLs that were followed."""
    items: list[dict[str, Any]] = []
    urls = [url]
    while True:
        page = ok(client.get(url))
        items += page[key]
        assert (page["next"] is None) == (page["next_url"] is None)
        if page["next_url"] is None:
            return items, urls
        query = parse_qs(urlsplit(page["next_url"]).query)
        assert query["cursor"] == [page["next"]]
        url = page["next_url"]
        urls.append(url)
        assert len(urls) < 50, "paging does not end"


def test_incidents_page_by_next_url_keeping_filters(client: TestClient) -> None:
    sev2 = [declare(client, severity="SEV2") for _ in range(5)]
    declare(client, severity="SEV1")

    items, urls = follow(client, "/incidents?severity=SEV2&limit=2", "items")
    assert [i["id"] for i in items] == list(reversed(sev2)), "newest first, each once"
    assert len(urls) == 3
    for url in urls[1:]:
        query = parse_qs(urlsplit(url).query)
        assert query["severity"] == ["SEV2"]
        assert query["limit"] == ["2"]

    everything, _ = follow(client, "/incidents?limit=1", "items")
    assert len(everything) == 6


def test_a_page_that_ends_exactly_at_the_limit_has_no_next(client: TestClient) -> None:
    for _ in range(3):
        declare(client)
    page = ok(client.get("/incidents?limit=3"))
    assert len(page["items"]) == 3
    assert page["next"] is None
    assert page["next_url"] is None


def test_the_timeline_pages_by_next_url(client: TestClient) -> None:
    incident_id = declare(client)
    for n in range(7):
        ok(client.post(f"/incidents/{incident_id}/notes", json={"text": f"note {n}"}), 201)
    whole = ok(client.get(f"/incidents/{incident_id}/timeline"))
    assert whole["next"] is None
    assert whole["next_url"] is None

    entries, urls = follow(client, f"/incidents/{incident_id}/timeline?limit=3", "entries")
    assert entries == whole["entries"]
    assert len(entries) == 8  # the declaration and seven notes
    assert len(urls) == 3


def test_the_action_item_board_pages_by_next_url(client: TestClient) -> None:
    first, second = declare(client), declare(client)
    created = []
    for n, incident_id in enumerate([first, second, first, second, first]):
        item = {
            "title": f"Item {n}",
            "kind": "corrective",
            "owner": "alice" if n % 2 else "bob",
            "due_date": f"2030-01-0{5 - n}",
        }
        response = client.post(f"/incidents/{incident_id}/action-items", json=item)
        created.append(ok(response, 201)["item_id"])

    items, urls = follow(client, "/action-items?limit=2", "items")
    assert [i["id"] for i in items] == list(reversed(created)), "soonest due first"
    assert len(urls) == 3

    bobs, bob_urls = follow(client, "/action-items?owner=bob&limit=1", "items")
    assert [i["owner"] for i in bobs] == ["bob"] * 3
    assert all(parse_qs(urlsplit(u).query)["owner"] == ["bob"] for u in bob_urls)


def test_limits_outside_1_to_500_and_a_foreign_cursor_are_422(client: TestClient) -> None:
    incident_id = declare(client)
    for path in ["/incidents", "/action-items", f"/incidents/{incident_id}/timeline"]:
        for limit in (0, 501):
            problem = assert_problem(client.get(f"{path}?limit={limit}"), 422)
            assert [e["location"] for e in problem["errors"]] == [["query", "limit"]]
        ok(client.get(f"{path}?limit=500"))
        response = client.get(f"{path}?cursor=bm90LWEtY3Vyc29y")
        problem = assert_problem(response, 422)
        assert [e["location"] for e in problem["errors"]] == [["query", "cursor"]]
        assert response.headers["content-type"] == PROBLEM_JSON
