"""The log scrubber: a credential in any shape is replaced, plain text is left alone."""

from __future__ import annotations

import pytest

from application.log_redaction import REDACTED, redact_secrets, scrub_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("headers: [(b'authorization', b'Bearer abc.def')]", "abc.def"),
        ('{"password": "hunter2"}', "hunter2"),
        ("Idempotency-Key: k-123456", "k-123456"),
        ("sent Basic dXNlcjpwYXNz to the hook", "dXNlcjpwYXNz"),
        ("token il_abcdefgh12345 leaked", "il_abcdefgh12345"),
        ("signature sha256=0123456789abcdef0123", "0123456789abcdef0123"),
        ("Cookie=incidents_session.abc", "incidents_session.abc"),
    ],
)
def test_every_shape_of_credential_is_replaced(text: str, secret: str) -> None:
    scrubbed = scrub_text(text)
    assert secret not in scrubbed
    assert REDACTED in scrubbed


@pytest.mark.parametrize(
    "text",
    ["/incidents/8d99e27d-c86f-4bc9-b959-3d35cf99a5cc/notes", "POST", "2026-12-05T18:40:50Z"],
)
def test_text_without_a_credential_is_unchanged(text: str) -> None:
    assert scrub_text(text) is text


def test_secret_keys_are_replaced_whatever_their_value() -> None:
    line = redact_secrets(None, "info", {"event": "request", "X-Api-Token": 42, "path": "/x"})
    assert line == {"event": "request", "X-Api-Token": REDACTED, "path": "/x"}
