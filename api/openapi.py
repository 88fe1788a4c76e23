"""The OpenAPI document, completed in one place from what each operation is.

FastAPI documents what a route declares; the refusals come from elsewhere (the bearer
check, the body limits, the If-Match and idempotency handling, the database), so they
are added here from the operation's properties instead of by hand on each route:

- a token-protected operation can answer 401 and 403;
- a POST, PUT or PATCH can answer 413 and 415 (the body limits run before any route),
  and one with a JSON body 400 (it does not parse) and 422;
- an operation without a body, a GET as much as a command, can answer 400: one was sent;
- an operation with parameters or a body can answer 422;
- a path naming an incident, an entry, an item or an integration can answer 404;
- a command (it takes ``If-Match``) can answer 400 (a malformed ``If-Match``), 409 and 412;
- every operation that reads or writes the database can answer 503.

Every such answer is ``application/problem+json`` with the ``Problem`` schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from api.problems import PROBLEM_JSON

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
BODY_METHODS = {"post", "put", "patch"}
NO_DATABASE = frozenset({("get", "/healthz")})
"""Operations that answer without the database (liveness must not depend on it)."""

DESCRIPTIONS = {
    400: (
        "The request cannot be read: the body is not JSON, or was sent to an operation that"
        " takes none, or a header is malformed"
    ),
    401: "No credentials, or credentials that are not valid",
    403: "The token lacks the scope this operation needs",
    404: "No such incident, entry, item or integration",
    409: "A conflicting change: the id exists already, or a concurrent change won; retry",
    412: "If-Match names another version than the incident's current one",
    413: "The body is larger than the service accepts (1 MiB)",
    415: "The body is not application/json",
    422: "A field is invalid or a rule refuses the change; `errors` names the fields",
    503: "The database is unreachable or failing, or the service is overloaded; retry later",
}
"""Used where an operation does not say more precisely why it refuses."""

FOUND_BY_ID = frozenset({"incident_id", "entry_id", "item_id", "name"})
"""Path parameters that name something which may not exist (404)."""

PARAMETERS = {
    "incident_id": "The incident's id (a UUID), as returned when it was declared.",
    "entry_id": "The timeline entry's id; a note's id is its entry's id.",
    "item_id": "The action item's id, as returned when it was added.",
    "section": "Which postmortem section.",
    "name": "The integration's name.",
    "limit": "At most this many items on the page.",
    "cursor": "Where the page starts: the previous page's `next` (opaque).",
}
"""Descriptions of parameters that mean the same on every operation that takes them."""

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "A refusal or failure, as RFC 9457 problem details.",
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem; about:blank: the status says it.",
        },
        "title": {"type": "string", "description": "The status's phrase, e.g. Not Found."},
        "status": {"type": "integer", "description": "The HTTP status code of the answer."},
        "detail": {
            "type": "string",
            "description": "What exactly was wrong, in words meant for the person asking.",
        },
        "errors": {
            "type": "array",
            "description": "For invalid input: one entry per refused field.",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
        "current_version": {
            "type": "integer",
            "description": "On 412: the incident's current version, also sent as ETag.",
        },
    },
    "required": ["type", "title", "status", "detail"],
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "description": "One refused field of a request.",
    "properties": {
        "location": {
            "type": "array",
            "description": "Where the field is: body, query, path or header, then its name.",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "message": {"type": "string", "description": "Why the field was refused."},
        "type": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "A stable name for the kind of error, e.g. missing, string_too_long.",
        },
    },
    "required": ["location", "message"],
}

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def refusals(
    method: str, path: str, operation: dict[str, Any], body_exempt: Iterable[str]
) -> set[int]:
    """Every error status this operation can answer, from what it is."""
    parameters = operation.get("parameters", [])
    headers = {p["name"].lower() for p in parameters if p.get("in") == "header"}
    path_names = {p["name"] for p in parameters if p.get("in") == "path"}
    statuses: set[int] = set()
    if operation.get("security"):
        statuses |= {401, 403}
    if method in BODY_METHODS and path not in set(body_exempt):
        statuses |= {413, 415}
        if "requestBody" in operation:
            statuses |= {400, 422}
    if "requestBody" not in operation:
        statuses.add(400)  # a body sent all the same (api.declared_inputs), a GET's too
    if parameters:
        statuses.add(422)
    if path_names & FOUND_BY_ID:
        statuses.add(404)
    if "if-match" in headers:
        statuses |= {400, 409, 412}
    if (method, path) not in NO_DATABASE:
        statuses.add(503)
    return statuses


def _problem_answer(response: dict[str, Any], status: int) -> dict[str, Any]:
    """The answer with a problem+json body; a description the route gave is kept."""
    return {
        **response,
        "description": response.get("description")
        or DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def _speaks_problem(response: dict[str, Any]) -> bool:
    """False for an answer documented in another format (PagerDuty's own 400)."""
    content = response.get("content") or {}
    return not content or PROBLEM_JSON in content or _is_fastapi_validation(content)


def _is_fastapi_validation(content: dict[str, Any]) -> bool:
    schema: dict[str, Any] = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == "#/components/schemas/HTTPValidationError")


def complete(document: dict[str, Any], body_exempt: Iterable[str] = ()) -> dict[str, Any]:
    """The document with every refusal documented as problem+json (changed in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    exempt = tuple(body_exempt)
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in refusals(method, path, operation, exempt):
                responses.setdefault(str(status), {})
            for status, declared in responses.items():
                if int(status) >= 400 and _speaks_problem(declared):
                    responses[status] = _problem_answer(declared, int(status))
            operation["responses"] = dict(sorted(responses.items()))
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and parameter["name"] in PARAMETERS:
                    parameter["description"] = PARAMETERS[parameter["name"]]
    # FastAPI's own 422 schema, replaced above, would be left unused.
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(document):
            schemas.pop(unused, None)
    return document


def install(app: FastAPI, body_exempt: Iterable[str] = ()) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""
    exempt = tuple(body_exempt)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate(), exempt)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
