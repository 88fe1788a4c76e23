"""Names of API tokens and integrations: one rule for the command line and HTTP.

A name is recorded as the actor of every event its credential writes, shown in lists,
typed after ``revoke`` and put in URL paths, so it must survive all of them unchanged:
1 to 100 characters, none of them whitespace or a control or format character (C0, DEL,
C1, zero-width and direction marks, line and paragraph separators, BOM). Nothing is
trimmed: a name is refused rather than silently changed into another one.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_LENGTH = 100
_FORBIDDEN = r"\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff"
PATTERN = rf"^[^{_FORBIDDEN}]{{1,{MAX_LENGTH}}}$"
"""The rule as one regular expression; the OpenAPI document publishes the same one."""

_BAD_CHARACTER = re.compile(rf"[{_FORBIDDEN}]")
RULE = f"1 to {MAX_LENGTH} characters without spaces or control characters"


class InvalidName(ValueError):
    """A token or integration name that breaks the rule; the message says how."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a credential, or None when it can."""
    if not name:
        return f"a name cannot be empty: {RULE}"
    if len(name) > MAX_LENGTH:
        return f"a name has at most {MAX_LENGTH} characters, not {len(name)}"
    found = _BAD_CHARACTER.search(name)
    if found is not None:
        what = "a space" if found.group() == " " else f"U+{ord(found.group()):04X}"
        return f"{what} at character {found.start() + 1}: a name has {RULE}"
    return None


def check_name(name: str, what: str) -> str:
    """``name`` when it follows the rule; otherwise InvalidName naming ``what`` it names."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidName(f"{what} name {name!r} refused: {problem}")
    return name


def _validate(name: str) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise PydanticCustomError("credential_name", problem)
    return name


CredentialName = Annotated[
    str,
    AfterValidator(_validate),
    Field(
        # Checked by _validate, for one message everywhere; published for clients.
        json_schema_extra={"minLength": 1, "maxLength": MAX_LENGTH, "pattern": PATTERN},
        description=f"Recorded as the actor; {RULE}.",
        examples=["alertmanager-prod"],
    ),
]
