"""A label as a query parameter: ``key=value``, each part valid as a label's."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, TypeAdapter

from domain.values import LabelKey, LabelValue

_KEY: TypeAdapter[str] = TypeAdapter(LabelKey)
_VALUE: TypeAdapter[str] = TypeAdapter(LabelValue)


def _check(text: str) -> str:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError("a label filter is key=value, e.g. team=payments")
    _KEY.validate_python(key)
    _VALUE.validate_python(value)
    return text


LabelFilter = Annotated[str, AfterValidator(_check)]


def label_pair(text: str | None) -> tuple[str, str] | None:
    """A checked ``key=value`` as its two parts (None stays None)."""
    if text is None:
        return None
    key, _, value = text.partition("=")
    return key.strip(), value.strip()
