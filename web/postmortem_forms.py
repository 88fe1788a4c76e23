"""Multi-line text from a form, held to the rule the API's bodies follow
(``application.text_fields.multi_line``): browsers end a textarea's lines with CRLF, stored
as LF, and control characters are refused as the form's own refusal."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from application.text_fields import multi_line
from web.commands import FormInvalid


def multi_line_field(text: str, field: str) -> str:
    """``text`` with LF line ends; FormInvalid naming ``field`` when it holds a control character."""
    try:
        return multi_line(text)
    except PydanticCustomError as exc:
        raise FormInvalid(field, f"{field}: {exc.message()}") from None
