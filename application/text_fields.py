"""Text in requests: no control characters, and single-line fields on one line.

A NUL cannot be stored on PostgreSQL at all, and the other C0 and C1 controls (escape
sequences, backspaces, bells) only corrupt what a terminal, a Markdown document or a
log line shows. So a request's text is refused, naming the field, before any command
is built; the store's own NUL check is then a last line of defence, not the answer a
client gets. Stored events keep their permissive types: they must decode whatever was
once written.

- ``SingleLine[T]``: titles, names, services, roles, owners, keys. No control character
  and no line break of any kind (CR, LF, NEL, U+2028, U+2029); a tab is a control here.
- ``MultiLine[T]``: notes, sections, reasons, summaries. ``\\n`` and ``\\t`` are allowed;
  CRLF line ends (HTML forms and Windows clients send them) become ``\\n``.
- ``Storable[T]`` and ``StorableJson``: what monitoring systems send in formats that are
  not ours. Only what cannot be stored is refused (NUL, a lone surrogate); Alertmanager
  drops a notification answered with a 4xx, so a harmless control character in a label
  must not cost an alert. Titles derived from such text are flattened to one line instead
  (see ``monitoring.mapping``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

T = TypeVar("T")

MAX_JSON_DEPTH = 32
"""Nesting of a free-form object (an alert's details) the service stores and shows."""

_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _refusal(found: re.Match[str], *, lines: bool = False) -> PydanticCustomError:
    char = found.group()
    context = {"code": f"U+{ord(char):04X}", "at": found.start() + 1}
    if "\ud800" <= char <= "\udfff":
        return PydanticCustomError(
            "unpaired_surrogate",
            "{code} at character {at} is half of a surrogate pair, not a character",
            context,
        )
    if char == "\x00":
        return PydanticCustomError(
            "nul_character", "NUL ({code}) at character {at}: text cannot hold it", context
        )
    if char in _LINE_BREAKS and lines:
        return PydanticCustomError(
            "line_break", "line break {code} at character {at}: end lines with \\n alone", context
        )
    if char in _LINE_BREAKS:
        return PydanticCustomError(
            "line_break", "line break ({code}) at character {at}: this field is one line", context
        )
    return PydanticCustomError(
        "control_character",
        "control character {code} at character {at}: text cannot hold control characters",
        context,
    )


def single_line(value: str) -> str:
    """``value`` when it is one line without control characters."""
    found = _SINGLE_LINE.search(value)
    if found:
        raise _refusal(found)
    return value


def multi_line(value: str) -> str:
    """``value`` with CRLF as LF, when it holds no control characters but LF and tab."""
    value = value.replace("\r\n", "\n")
    found = _MULTI_LINE.search(value)
    if found:
        raise _refusal(found, lines=True)
    return value


def storable(value: str) -> str:
    """``value`` when every backend can store it: no NUL, no lone surrogate."""
    found = _UNSTORABLE.search(value)
    if found:
        raise _refusal(found)
    return value


def _walk(node: Any, path: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise PydanticCustomError(
            "json_too_deep",
            "{path} nests deeper than {limit} levels",
            {"path": path or "the value", "limit": MAX_JSON_DEPTH},
        )
    if isinstance(node, str):
        found = _UNSTORABLE.search(node)
        if found:
            error = _refusal(found)
            raise PydanticCustomError(error.type, f"{path or 'the value'}: {error.message()}")
    elif isinstance(node, dict):
        for key, value in node.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _UNSTORABLE.search(key):
                _walk(key, f"the key {key!r} of {path or 'the object'}", depth + 1)
            _walk(value, inner, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(value, f"{path}[{index}]", depth + 1)


def storable_json(value: T) -> T:
    """A free-form JSON value whose every string and key can be stored, not too deep."""
    _walk(value, "", 0)
    return value


SingleLine = Annotated[T, AfterValidator(single_line)]
MultiLine = Annotated[T, AfterValidator(multi_line)]
Storable = Annotated[T, AfterValidator(storable)]
StorableJson = Annotated[T, AfterValidator(storable_json)]
