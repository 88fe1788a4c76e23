"""A yes-or-no query parameter: ``true`` or ``false``, as documented, and nothing else.

pydantic reads query text as a boolean leniently (``1``, ``t``, ``y``, ``yes``, ``on``
and their opposites); a filter that took ``?overdue=on`` or ``?overdue=n`` would answer
with the client left guessing which spelling meant what. Letter case is not held
against a client: some send Python's ``True``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def _true_or_false(value: Any) -> Any:
    if isinstance(value, str) and value.lower() not in ("true", "false"):
        raise PydanticCustomError("bool_parsing", "Input should be true or false")
    return value


QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]
