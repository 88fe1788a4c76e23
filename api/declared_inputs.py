"""Input a route does not declare is refused, not silently dropped.

- A query parameter declared as one value and given more than once: FastAPI would keep
  the last (``?stream=A&stream=B`` read only B). Parameters declared as lists (``type``)
  take repeats as before.
- A body sent to a route that takes none: it was read by nothing, so a change the client
  thought it described was made without it. An empty body is no body.

Routes that read their body themselves (the monitoring hooks) declare it in their
OpenAPI operation (``openapi_extra``), and that counts as taking one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


@dataclass(frozen=True, slots=True)
class DeclaredInputs:
    """What a route reads from a request, besides its path and headers."""

    single_values: frozenset[str]
    """Query parameters that take one value."""
    takes_body: bool


def declared_inputs(route: APIRoute) -> DeclaredInputs:
    """The route's query parameters that take one value, and whether it takes a body."""
    singles = frozenset(
        field.alias
        for field in _query_fields(route.dependant)
        if not takes_many(field.field_info.annotation)
    )
    documented = "requestBody" in (route.openapi_extra or {})
    return DeclaredInputs(singles, takes_body=route.body_field is not None or documented)


def takes_many(annotation: Any) -> bool:
    """Whether a query parameter so annotated reads every value given (``list[str]``,
    ``tuple[str, ...] | None``): FastAPI reads those as lists, and all else as one value."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return takes_many(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return any(takes_many(arg) for arg in get_args(annotation) if arg is not type(None))
    kind = origin or annotation
    return (
        isinstance(kind, type)
        and issubclass(kind, Sequence | Set)
        and not issubclass(kind, str | bytes)
    )


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)


async def declared_inputs_only(request: Request) -> None:
    """A dependency: 422 for a one-value query parameter given twice, 400 for a body sent
    to a route that takes none."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    inputs = _known(request, route)
    query = request.query_params
    if len(query.multi_items()) > len(query):  # some name is given more than once
        _refuse_repeats(query.multi_items(), inputs.single_values)
    if not inputs.takes_body and await _has_body(request):
        raise HTTPException(
            400,
            f"{request.method} {route.path_format} takes no request body; send the request without one",
        )


def _refuse_repeats(items: list[tuple[str, str]], singles: frozenset[str]) -> None:
    given: dict[str, list[str]] = {}
    for name, value in items:
        given.setdefault(name, []).append(value)
    errors = [
        {
            "loc": ("query", name),
            "msg": f"give {name} once (it was given {len(values)} times)",
            "type": "value_error",
            "input": values,
        }
        for name, values in sorted(given.items())
        if name in singles and len(values) > 1
    ]
    if errors:
        raise RequestValidationError(errors)


def _known(request: Request, route: APIRoute) -> DeclaredInputs:
    """The route's inputs, worked out once per route for the app's life."""
    # Keyed by id(): routes are not hashable, and they live as long as the app.
    known: dict[int, DeclaredInputs] = request.app.state.declared_inputs
    inputs = known.get(id(route))
    if inputs is None:
        inputs = known[id(route)] = declared_inputs(route)
    return inputs


async def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return not (length.isascii() and length.isdigit() and int(length) == 0)
    if "transfer-encoding" not in request.headers:
        return False
    # Chunked: only reading tells an empty body from another. The body limits
    # (api.limits) hold every body to 1 MiB before any route runs.
    return bool(await request.body())
