"""The OpenAPI document: summaries, examples, security; and a schemathesis run against it.

The schemathesis run drives every operation through schemathesis's Python API
(``operation.as_strategy()`` under hypothesis), one pytest subtest per operation, on
SQLite only to keep it quick. Its ``from_fixture`` pytest integration is not used: it
sets ``Function._nodeid``, which pytest 9.2 no longer has.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

import api.schemas
import projections.documents
from api.app import create_app
from application.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, STREAM_SECONDS
from tests.api.helpers import api_routes, ok

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}  # probes carry no token
OWN_CREDENTIALS = {("POST", "/hooks/generic"), ("POST", "/hooks/pagerduty/v2/enqueue")}
"""Authenticated by an HMAC signature or a routing key, not a token (when present)."""

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLES_PER_OPERATION = 5


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI document; building it connects to no database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    openapi: dict[str, Any] = create_app(Settings(database_url=url)).openapi()
    return openapi


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def resolve(document: dict[str, Any], schema: Any) -> Any:
    """A schema with a top-level $ref followed (once is all FastAPI writes)."""
    if isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return document["components"]["schemas"][name]
    return schema


def examples_of(document: dict[str, Any], operation: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every example the operation shows: (where, value), from its body, parameters, answers."""
    found: list[tuple[str, Any]] = []

    def of(where: str, holder: Any) -> None:
        if not isinstance(holder, dict):
            return
        if "example" in holder:
            found.append((where, holder["example"]))
        examples = holder.get("examples")
        if isinstance(examples, list):
            found.extend((where, value) for value in examples)
        elif isinstance(examples, dict):
            found.extend((where, e["value"]) for e in examples.values() if "value" in e)

    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        of(f"request {media}", content)
        of(f"request {media} schema", resolve(document, content.get("schema")))
    for parameter in operation.get("parameters", []):
        of(f"parameter {parameter['name']}", parameter)
        of(f"parameter {parameter['name']} schema", parameter.get("schema"))
    for status, response in operation.get("responses", {}).items():
        for media, content in response.get("content", {}).items():
            of(f"{status} {media}", content)
            of(f"{status} {media} schema", resolve(document, content.get("schema")))
    return found


# --- the document --------------------------------------------------------------------------


def test_every_operation_has_a_summary(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if not operation.get("summary", "").strip()
    ]
    assert missing == []


def test_every_operation_shows_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if not examples_of(document, operation)
    ]
    assert missing == []


def schema_models() -> Iterator[type[BaseModel]]:
    """Every pydantic model of the API's bodies and of the read-side documents it serves."""
    for package in (api.schemas, projections.documents):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, BaseModel)
                    and value.__module__ == module.__name__
                ):
                    yield value


def test_every_example_is_valid_for_its_model(tmp_path: Path) -> None:
    """Examples parse as the model they illustrate, read as JSON like a client's would be.

    Checked at the source, not in /openapi.json: FastAPI drops every null from examples
    when it writes the document (fastapi/fastapi#5559), so a nullable required field
    shows as missing there.
    """
    failures = []
    checked = 0
    for model in schema_models():
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        for example in examples if isinstance(examples, list) else []:
            checked += 1
            try:
                model.model_validate_json(json.dumps(example))
            except ValidationError as exc:
                failures.append(f"{model.__name__}: {exc}")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    for route in api_routes(app.routes):
        answer = route.responses.get(200, {}).get("content", {}).get("application/json", {})
        if "example" in answer and route.response_model is not None:
            checked += 1
            try:
                TypeAdapter(route.response_model).validate_json(json.dumps(answer["example"]))
            except ValidationError as exc:
                failures.append(f"{sorted(route.methods or ())} {route.path}: {exc}")
    assert checked > 20
    assert failures == []


def test_the_bearer_scheme_is_declared_and_every_operation_but_healthz_uses_it(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["type"] == "http"
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert "incidents tokens create" in schemes["HTTPBearer"]["description"]
    unsecured = []
    for method, path, operation in operations(document):
        requirements = operation.get("security", [])
        if (method, path) in PUBLIC | OWN_CREDENTIALS:
            assert requirements == [], f"{method} {path} claims a token it does not check"
        elif {"HTTPBearer": []} not in requirements:
            unsecured.append(f"{method} {path}")
    assert unsecured == []


def described(schema: Any) -> bool:
    return isinstance(schema, dict) and bool(str(schema.get("description", "")).strip())


def test_every_operation_has_a_description(document: dict[str, Any]) -> None:
    """More than the summary: what it does, or when to use it."""
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if not described(operation) or operation["description"] == operation.get("summary")
    ]
    assert missing == []


def test_every_property_and_parameter_has_a_description(document: dict[str, Any]) -> None:
    missing = [
        f"{name}.{prop}"
        for name, schema in document["components"]["schemas"].items()
        for prop, value in schema.get("properties", {}).items()
        if not described(value)
    ]
    missing += [
        f"{name} (schema)"
        for name, schema in document["components"]["schemas"].items()
        if not described(schema)
    ]
    missing += [
        f"{method} {path} {parameter['in']} {parameter['name']}"
        for method, path, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if not described(parameter)
    ]
    assert missing == []


def statuses(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


def test_every_refusal_an_operation_can_give_is_documented(document: dict[str, Any]) -> None:
    """From what the operation is: guarded, takes a body, names an incident, is a command."""
    missing = []
    for method, path, operation in operations(document):
        parameters = operation.get("parameters", [])
        expected = {503} if (method, path) != ("GET", "/healthz") else set()
        if operation.get("security"):
            expected |= {401, 403}
        if method in {"POST", "PUT", "PATCH"} and path != "/hooks/pagerduty/v2/enqueue":
            expected |= {413, 415} | ({400, 422} if "requestBody" in operation else set())
        if "requestBody" not in operation:
            expected.add(400)  # a body sent to an operation that takes none
        if any(p["in"] == "path" and p["name"].endswith("_id") for p in parameters):
            expected.add(404)
        if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters):
            expected |= {400, 409, 412, 422}
        if parameters:
            expected.add(422)
        if expected - statuses(operation):
            missing.append(f"{method} {path}: {sorted(expected - statuses(operation))}")
    assert missing == []
    generic = document["paths"]["/hooks/generic"]["post"]
    assert {400, 401, 413, 415, 422, 503} <= statuses(generic)  # signed, not a token


def test_every_refusal_is_a_problem_document(document: dict[str, Any]) -> None:
    """problem+json with the Problem schema; only PagerDuty's route answers in its own words."""
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    wrong = []
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) < 400 or (path, status) == ("/hooks/pagerduty/v2/enqueue", "400"):
                continue
            if answer.get("content", {}).get("application/problem+json", {}).get("schema") != {
                "$ref": "#/components/schemas/Problem"
            } or set(answer["content"]) != {"application/problem+json"}:
                wrong.append(f"{method} {path} {status}")
    assert wrong == []


def test_real_refusals_fit_the_problem_schema(client: TestClient, document: dict[str, Any]) -> None:
    """A 404, a 422 with field errors, a 412 and a 401, checked against the documented shape."""
    problem = document["components"]["schemas"]["Problem"]
    field_error = document["components"]["schemas"]["FieldError"]
    created = ok(client.post("/incidents", json={"title": "Disk full", "severity": "SEV3"}), 201)[
        "id"
    ]
    answers = [
        client.get("/incidents/00000000-0000-4000-8000-000000000000"),
        client.post("/incidents", json={"title": "", "severity": "SEV9"}),
        client.post(f"/incidents/{created}/acknowledge", json={}, headers={"If-Match": '"7"'}),
        TestClient(client.app).get("/incidents"),
    ]
    assert [a.status_code for a in answers] == [404, 422, 412, 401]
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert set(problem["required"]) <= set(body), body
        assert set(body) <= set(problem["properties"]), body
        assert body["status"] == answer.status_code
        for error in body.get("errors", []):
            assert set(field_error["required"]) <= set(error) <= set(field_error["properties"])
    assert answers[1].json()["errors"]


def test_the_document_is_served_and_matches_the_app(client: TestClient) -> None:
    served = ok(TestClient(client.app).get("/openapi.json"))
    assert served == client.app.openapi()  # type: ignore[attr-defined]
    assert served["openapi"].startswith("3.")
    assert served["info"]["version"] == "0.1.0"


# --- schemathesis --------------------------------------------------------------------------


@pytest.fixture
def app_under_test(database_url: str) -> Iterator[Any]:
    app = create_app(
        Settings(
            database_url=database_url,
            admin_token=ADMIN_TOKEN,
            events_stream_max_seconds=STREAM_SECONDS,
        )
    )
    try:
        yield app
    finally:
        # from_asgi starts the app's lifespan on schemathesis's own event-loop thread,
        # where it stays until stopped (or the process exits).
        asgi.shutdown_lifespans()


@pytest.fixture
def api_schema(app_under_test: Any) -> Any:
    """The schema as schemathesis reads it from /openapi.json (this starts the lifespan)."""
    return schemathesis.openapi.from_asgi("/openapi.json", app_under_test)


@pytest.fixture
def seeded(app_under_test: Any, api_schema: Any) -> dict[str, str]:
    """One incident with a note and an action item, for the ids half the cases use."""
    client = TestClient(app_under_test, headers=AUTH)  # the lifespan seeded the admin token
    incident = ok(
        client.post(
            "/incidents",
            json={"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]},
        ),
        201,
    )["id"]
    note = client.post(f"/incidents/{incident}/notes", json={"text": "Rolled back"})
    item = client.post(
        f"/incidents/{incident}/action-items",
        json={"title": "Alert", "kind": "corrective", "owner": "alice", "due_date": "2030-01-01"},
    )
    assert note.status_code == 201, note.text
    return {
        "incident_id": incident,
        "entry_id": note.headers["location"].rsplit("/", 1)[1],
        "item_id": ok(item, 201)["item_id"],
    }


def use_seeded_ids(case: schemathesis.Case[Any], seeded: dict[str, str]) -> None:
    """Point about half the cases at the seeded incident, so they reach its state.

    Which half follows from the generated id itself, keeping every case reproducible.
    """
    for name, value in (case.path_parameters or {}).items():
        if name not in seeded or not isinstance(value, str):
            continue
        try:
            generated = UUID(value)
        except ValueError:
            continue  # a negative case: keep the malformed id
        if generated.int % 2 == 0:
            case.path_parameters[name] = seeded[name]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_operation_conforms_to_the_document(
    app_under_test: Any, api_schema: Any, seeded: dict[str, str], subtests: pytest.Subtests
) -> None:
    """No 5xx, and every answer matches its documented schema, valid input or not."""
    schema = api_schema
    checks = [not_a_server_error, response_schema_conformance]
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1
        strategy = st.one_of(
            operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any]) -> None:
            use_seeded_ids(case, seeded)
            case.call_and_validate(headers=AUTH, checks=checks)

        with subtests.test(operation.label):
            check()
    assert count == sum(1 for _ in operations(app_under_test.openapi())) > 20
