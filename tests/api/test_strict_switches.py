"""Switches take only what the documentation says: JSON ``true``/``false`` in a body
(``1`` or ``"yes"`` redacted a note for good), ``true``/``false`` in a query."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

import api.schemas
from api.schemas.common import Body
from application.settings import Settings
from tests.api.helpers import assert_problem, declare, nothing_stored, ok

NOT_JSON_BOOLEANS: list[Any] = [1, 0, 1.0, "true", "false", "yes", "on", "1", [True], {}]
ODD_QUERY_WORDS = ["yes", "no", "on", "off", "y", "n", "t", "f", "1", "0", ""]


def request_bodies() -> Iterator[type[BaseModel]]:
    for module in pkgutil.iter_modules(api.schemas.__path__):
        importlib.import_module(f"api.schemas.{module.name}")
    pending: list[type[BaseModel]] = [Body]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        yield model


def boolean_fields(model: type[BaseModel]) -> Iterator[str]:
    for name, schema in model.model_json_schema().get("properties", {}).items():
        types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
        if "boolean" in types:
            yield name


def test_every_boolean_of_a_request_body_takes_only_json_booleans() -> None:
    found = []
    for model in request_bodies():
        for name in boolean_fields(model):
            found.append(f"{model.__name__}.{name}")
            for value in NOT_JSON_BOOLEANS:
                with pytest.raises(ValidationError) as refused:
                    model.model_validate({name: value})
                locations = [error["loc"] for error in refused.value.errors()]
                assert (name,) in locations, (model.__name__, name, value)
    assert {"TimelinePatch.redacted", "WebhookPatch.enabled"} <= set(found)


def test_a_redaction_needs_json_true_and_erases_nothing_otherwise(client: TestClient) -> None:
    incident_id = declare(client)
    note = ok(
        client.post(f"/incidents/{incident_id}/notes", json={"text": "jane@example.com"}), 201
    )
    path = f"/incidents/{incident_id}/timeline/{note['note_id']}"
    with nothing_stored(client):
        for value in NOT_JSON_BOOLEANS:
            problem = assert_problem(
                client.patch(path, json={"redacted": value, "reason": "x"}), 422
            )
            assert problem["errors"][0]["location"] == ["body", "redacted"], value
    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert [e.get("text") for e in entries if e["kind"] == "note"] == ["jane@example.com"]
    ok(client.patch(path, json={"redacted": True, "reason": "an e-mail address"}))


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    """Subscriptions to http://127.0.0.1 allowed, and nothing delivered."""
    return app_settings.model_copy(
        update={
            "webhooks_allow_http": True,
            "webhooks_allow_private": True,
            "webhooks_deliver": False,
        }
    )


def test_a_subscription_is_switched_only_by_json_booleans(client: TestClient) -> None:
    created = ok(
        client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "types": ["incident."]}),
        201,
    )
    path = f"/webhooks/{created['id']}"
    for value in NOT_JSON_BOOLEANS:
        problem = assert_problem(client.patch(path, json={"enabled": value}), 422)
        assert problem["errors"][0]["location"] == ["body", "enabled"], value
    assert ok(client.get(path))["enabled"] is True
    assert ok(client.patch(path, json={"enabled": False}))["enabled"] is False


FLAGS = [
    ("/action-items", "overdue"),
    ("/postmortems", "overdue"),
    ("/insights/incidents", "include_duplicates"),
]


@pytest.mark.parametrize(("path", "name"), FLAGS)
def test_a_query_flag_is_true_or_false(client: TestClient, path: str, name: str) -> None:
    for word in ODD_QUERY_WORDS:
        problem = assert_problem(client.get(path, params={name: word}), 422)
        assert problem["errors"][0]["location"] == ["query", name], word
    for word in ("true", "false", "True", "FALSE"):
        ok(client.get(path, params={name: word}))
