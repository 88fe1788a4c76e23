"""Standard Webhooks signatures, checked by the reference verifier from PyPI."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from outbound.signing import new_secret, sign, signature_header, standard_headers

BODY = b'{"type":"incident.declared","data":{"title":"Checkout is down"}}'
MESSAGE_ID = "msg_2hJcbZ9sVQ4E3V0j"


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_the_signature_matches_the_specifications_example() -> None:
    # The example of the Standard Webhooks reference libraries' own tests.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_reference_verifier_accepts_the_headers() -> None:
    secret = new_secret()
    headers = standard_headers([secret], MESSAGE_ID, int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "type": "incident.declared",
        "data": {"title": "Checkout is down"},
    }


def test_the_headers_are_the_standard_ones() -> None:
    now = int(time.time())
    headers = standard_headers([new_secret()], MESSAGE_ID, now, BODY)
    assert set(headers) == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
    }
    assert headers["webhook-id"] == MESSAGE_ID
    assert headers["webhook-timestamp"] == str(now)
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "IncidentLedger-Webhooks/1"


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = standard_headers([new, old], MESSAGE_ID, int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_a_header_holds_one_signature_per_secret_in_order() -> None:
    first, second = new_secret(), new_secret()
    header = signature_header([first, second], MESSAGE_ID, 1700000000, BODY)
    assert header == (
        f"{sign(first, MESSAGE_ID, 1700000000, BODY)} {sign(second, MESSAGE_ID, 1700000000, BODY)}"
    )


def test_another_secret_does_not_verify() -> None:
    headers = standard_headers([new_secret()], MESSAGE_ID, int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.parametrize(
    "changed",
    [BODY.replace(b"Checkout", b"Checkin"), BODY + b" ", b""],
)
def test_a_changed_body_does_not_verify(changed: bytes) -> None:
    secret = new_secret()
    headers = standard_headers([secret], MESSAGE_ID, int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(changed, headers)


def test_a_changed_id_or_timestamp_does_not_verify() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = standard_headers([secret], MESSAGE_ID, now, BODY)
    for name, value in (("webhook-id", "msg_other"), ("webhook-timestamp", str(now - 1))):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(BODY, {**headers, name: value})


def test_the_signature_covers_the_body_bytes_exactly() -> None:
    secret = new_secret()
    body = '{"title":"Caf\u00e9 \u2014 \U0001f525"}'.encode()
    headers = standard_headers([secret], MESSAGE_ID, int(time.time()), body)
    Webhook(secret).verify(body, headers)


def test_a_secret_that_is_not_base64_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="base64") as raised:
        sign("whsec_not*base64!", MESSAGE_ID, 1700000000, BODY)
    assert "not*base64" not in str(raised.value)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign("whsec_", MESSAGE_ID, 1700000000, BODY)


@pytest.mark.parametrize("message_id", ["", "msg 1", "msg_1\r\nx-injected: 1"])
def test_a_message_id_that_would_break_the_header_is_refused(message_id: str) -> None:
    with pytest.raises(ValueError, match="message id"):
        sign(new_secret(), message_id, 1700000000, BODY)


def test_a_message_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], MESSAGE_ID, 1700000000, BODY)
