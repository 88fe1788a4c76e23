"""What the hook routes share: the raw body, its parsing, results, documentation."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

import orjson
import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api import exact_json
from api.dependencies import request_metadata
from application.alert_ingestion import AlertIngestor, Generations, Recorded
from application.service import CommandContext
from application.settings import Settings
from monitoring.mapping import SeverityMap

M = TypeVar("M", bound=BaseModel)


async def raw_body(request: Request) -> bytes:
    """The body as sent (signatures cover these exact bytes); read after authentication."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def parse(body: bytes, model: type[M]) -> M:
    """400 for a body that is not JSON, 422 with every field's problem for the wrong shape."""
    if not body.strip():
        raise HTTPException(400, "the request has no body; send a JSON document")
    try:
        data = exact_json.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from exc
    except exact_json.InexactInteger as exc:
        error = {
            "type": "int_too_large",
            "loc": ("body", *exc.path),
            "msg": str(exc),
            "input": None,
        }
        raise RequestValidationError([error]) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(definitions[ref.removeprefix("#/$defs/")])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body the route reads itself."""
    schema = _inline(model.model_json_schema())
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


class HookIncident(BaseModel):
    """An incident a notification was recorded in."""

    id: UUID = Field(description="The incident's id.")
    version: int = Field(description="The incident's stream version after the notification.")
    position: int = Field(description="The log position of its newest event.")
    unchanged: bool = Field(description="Nothing new: every alert was recorded before.")


class HookResult(BaseModel):
    """What a notification changed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "incidents": [
                        {
                            "id": "142a5b88-c125-5d0d-a4f3-ffe6318cf151",
                            "version": 2,
                            "position": 2,
                            "unchanged": False,
                        }
                    ]
                }
            ]
        }
    )

    incidents: list[HookIncident] = Field(
        description="The incidents the notification went to (none for resolutions of unknown alerts)."
    )


def hook_result(recorded: list[Recorded]) -> HookResult:
    return HookResult(
        incidents=[
            HookIncident(
                id=r.incident_id, version=r.version, position=r.position, unchanged=r.unchanged
            )
            for r in recorded
        ]
    )


def ingestor(request: Request) -> AlertIngestor:
    settings: Settings = request.app.state.settings
    generations: Generations = request.app.state.alert_generations
    return AlertIngestor(
        request.app.state.service,
        generations,
        auto_resolve=settings.auto_resolve,
        label_keys=settings.alert_label_keys,
    )


def severities(request: Request) -> SeverityMap:
    found: SeverityMap = request.app.state.severities
    return found


def hook_context(request: Request, source: str, actor: str | None = None) -> CommandContext:
    """Event metadata for a hook: the sender as the actor, the hook as the source."""
    metadata = {**request_metadata(request), "source": source}
    if actor is not None:
        metadata["actor"] = actor
        structlog.contextvars.bind_contextvars(actor=actor)
    return CommandContext(metadata)
