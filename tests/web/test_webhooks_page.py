"""The webhooks pages, posted as a browser posts them: admins only; adding shows the signing
secret in that one answer; a refused field is named beside the form and nothing is stored;
enable, disable, rotate, test and delete; the delivery log. Each test runs on SQLite and
PostgreSQL, delivering to a receiver on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import structlog
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import update

from application.settings import Settings
from outbound.secret_box import SecretBox
from outbound.subscriptions import Subscription, SubscriptionStore
from outbound.tables import webhook_subscriptions
from tests.api.helpers import declare
from tests.integration.servers import eventually
from tests.outbound.receiver import Receiver, receiving
from tests.web.conftest import ADMIN_TOKEN
from tests.web.incident_page_support import block
from tests.web.test_page_security import read

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

PAGE = "/ui/webhooks"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def web_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        events_stream_max_seconds=0.2,
        webhooks_allow_http=True,
        webhooks_allow_private=True,
        webhooks_poll_seconds=0.05,
        secret_key=Fernet.generate_key().decode(),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def store(web_app: FastAPI) -> SubscriptionStore:
    found: SubscriptionStore = web_app.state.webhooks
    return found


def form(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    return {
        "url": receiver.url,
        "types": "incident.declared, timeline.",
        "format": "standard",
        "description": "Ops channel",
        "services": "",
        **fields,
    }


def added(web: WebUser, store: SubscriptionStore, receiver: Receiver) -> Subscription:
    """A subscription added through the form; the stored one."""
    answer = web.post(PAGE, form(receiver))
    assert answer.status_code == 200, answer.text
    (subscription,) = store.list()
    return subscription


def refusal_of(html: str) -> str:
    found = re.search(r'data-form-error="(\w+)">([^<]*)<', html)
    assert found is not None, "the page shows no refusal"
    return found.group(2)


# --- who may see the pages ------------------------------------------------------------------


def test_an_admin_sees_the_page_and_its_link_in_the_header(web: WebUser) -> None:
    answer = web.get(PAGE)
    assert answer.status_code == 200, answer.text
    assert "No webhook subscriptions yet" in answer.text
    assert 'id="add-webhook-form"' in answer.text
    assert 'href="/ui/webhooks" aria-current="page">Webhooks</a>' in answer.text


def test_other_tokens_are_refused_and_shown_no_link(wes: WebUser, reader: WebUser) -> None:
    for user, name in ((wes, "wes"), (reader, "rita")):
        for path in (PAGE, f"{PAGE}/00000000-0000-4000-8000-000000000000"):
            answer = user.get(path)
            assert answer.status_code == 403, path
            assert f"the token &#39;{name}&#39; lacks the &#39;admin&#39; scope" in answer.text
        assert 'href="/ui/webhooks"' not in user.get("/ui/incidents").text


def test_other_tokens_change_nothing(
    wes: WebUser, reader: WebUser, web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    base = f"{PAGE}/{subscription.subscription_id}"
    for user in (wes, reader):
        assert user.post(PAGE, form(receiver)).status_code == 403
        assert user.post(f"{base}/enabled", {"enabled": "false"}).status_code == 403
        assert user.post(f"{base}/rotate").status_code == 403
        assert user.post(f"{base}/test").status_code == 403
        assert user.post(f"{base}/delete").status_code == 403
    assert store.list() == [subscription]
    assert receiver.got == []


def test_every_change_needs_the_session_s_csrf_value(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    assert web.post(PAGE, form(receiver), csrf=False).status_code == 403
    assert store.list() == []
    subscription = added(web, store, receiver)
    base = f"{PAGE}/{subscription.subscription_id}"
    for action, data in [("enabled", {"enabled": "false"}), ("rotate", {}), ("test", {})]:
        assert web.post(f"{base}/{action}", data, csrf=False).status_code == 403, action
    assert web.post(f"{base}/delete", csrf=False).status_code == 403
    assert store.list() == [subscription]
    assert receiver.got == []


# --- adding ---------------------------------------------------------------------------------


def test_adding_shows_the_secret_in_that_answer_only(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    data = form(receiver, severity=["SEV1", "SEV2"], services="checkout, payments")
    with structlog.testing.capture_logs() as logs:
        answer = web.post(PAGE, data)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    box = block(answer.text, '<section class="card secret-box"')
    assert "Copy it now: it is not shown again." in box
    secrets = SECRET.findall(box)
    assert len(secrets) == 1
    assert SECRET.findall(answer.text) == secrets
    assert secrets[0] not in repr(logs)

    (subscription,) = store.list()
    assert subscription.url == receiver.url
    assert subscription.types == ("incident.declared", "timeline.")
    assert subscription.severity == ("SEV1", "SEV2")
    assert subscription.services == ("checkout", "payments")
    assert subscription.description == "Ops channel"
    assert subscription.created_by == "admin"
    assert subscription.enabled

    listing = web.get(PAGE)
    row = block(listing.text, f'<tr data-subscription="{subscription.subscription_id}"')
    for shown in (receiver.url, "Ops channel", "incident.declared, timeline.", "SEV1, SEV2"):
        assert shown in row
    assert "checkout, payments" in row
    assert "enabled" in row
    assert "none yet" in row
    detail = web.get(f"{PAGE}/{subscription.subscription_id}")
    for later in (listing, detail):
        assert later.status_code == 200
        assert not SECRET.search(later.text)
        assert "secret-box" not in later.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": "ftp://example.com/hook"}, "url", "url: must be http:// or https://"),
        ({"url": "http://user:pw@example.com/"}, "url", "url: may not contain a user name"),
        ({"types": ""}, "types", "types: name at least one event type"),
        ({"types": "incident.declared, incident.nope"}, "types", "types[1]: 'incident.nope'"),
        ({"format": "xml"}, "format", "format: one of standard, slack"),
        ({"severity": ["SEV1", "SEV9"]}, "severity", "filter.severity[1]: one of SEV1"),
        ({"services": "x" * 101}, "services", "filter.services[0]: 1-100 characters"),
        ({"services": "check\x00out"}, "services", "services: NUL (U+0000) at character 6"),
        ({"description": "a\x07b"}, "description", "description: control character U+0007"),
        ({"description": "d" * 501}, "description", "description: at most 500 characters"),
    ],
)
def test_a_refused_field_is_named_beside_the_form_and_nothing_is_stored(
    web: WebUser,
    store: SubscriptionStore,
    receiver: Receiver,
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    data = form(receiver, **fields)
    answer = web.post(PAGE, data)
    assert answer.status_code == 422, answer.text
    assert refusal_of(answer.text).startswith(str(escape(message)))
    invalid = re.findall(r'<(?:input|select|fieldset)[^>]*aria-invalid="true"', answer.text)
    assert len(invalid) == 1
    assert f'name="{field}"' in invalid[0] or 'class="severity-choice"' in invalid[0]
    assert 'value="Ops channel"' in answer.text or field == "description"
    assert store.list() == []
    assert not SECRET.search(answer.text)


def test_a_description_with_markup_is_shown_as_text(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    markup = "<img src=x onerror=alert(1)>"
    assert web.post(PAGE, form(receiver, description=markup)).status_code == 200
    (subscription,) = store.list()
    for path in (PAGE, f"{PAGE}/{subscription.subscription_id}"):
        html = web.get(path).text
        assert markup not in html
        assert str(escape(markup)) in html


# --- a subscription's page ------------------------------------------------------------------


def test_a_test_event_is_sent_and_its_status_shown_and_logged(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    base = f"{PAGE}/{subscription.subscription_id}"
    answer = web.post(f"{base}/test")
    assert answer.status_code == 200, answer.text
    assert answer.headers["hx-push-url"] == base
    result = block(answer.text, '<section class="card test-result ok"')
    assert "Test event delivered" in result
    assert '<span class="badge delivery-ok">200</span>' in result
    (got,) = receiver.wait_for(1)
    assert got.json["type"] == "webhook.test"
    assert "webhook-signature" in got.headers
    log = block(answer.text, '<section class="card" aria-labelledby="log-title"')
    row = block(log, '<tr data-event-type="webhook.test" data-trigger="test"')
    assert got.message_id in row
    assert ">200<" in row


def test_a_failing_receiver_s_answer_is_shown(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    receiver.answer(503)
    answer = web.post(f"{PAGE}/{subscription.subscription_id}/test")
    assert answer.status_code == 200, answer.text
    result = block(answer.text, '<section class="card test-result failed"')
    assert "Test event not delivered" in result
    assert '<span class="badge delivery-failed">503</span>' in result


def test_a_secret_sealed_with_another_key_is_said_so_and_nothing_is_sent(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    other_key = SecretBox(Fernet.generate_key().decode())
    with store.engine.begin() as conn:
        conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.subscription_id == subscription.subscription_id)
            .values(sealed_secret=other_key.seal("whsec_c2VjcmV0"))
        )
    answer = web.post(f"{PAGE}/{subscription.subscription_id}/test")
    assert answer.status_code == 409, answer.text
    assert "does not open with this INCIDENTS_SECRET_KEY" in refusal_of(answer.text)
    assert receiver.got == []


def test_the_delivery_log_shows_what_the_deliverer_sent(
    web: WebUser, api: TestClient, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    incident_id = declare(api)
    got = receiver.wait_for(1)
    assert got[0].json["type"] == "incident.declared"
    assert got[0].json["data"]["incident_id"] == incident_id  # type: ignore[index]
    page = f"{PAGE}/{subscription.subscription_id}"

    def logged() -> str | None:
        html = web.get(page).text
        return html if 'data-event-type="incident.declared"' in html else None

    html = eventually(logged, timeout=20, what="the delivery in the log")
    row = block(html, '<tr data-event-type="incident.declared" data-trigger="log"')
    assert got[0].message_id in row
    assert ">200<" in row
    assert "(up to date)" in block(html, '<dd id="webhook-checkpoint"')


def test_disabling_and_enabling(web: WebUser, store: SubscriptionStore, receiver: Receiver) -> None:
    subscription = added(web, store, receiver)
    base = f"{PAGE}/{subscription.subscription_id}"
    disabled = web.post(f"{base}/enabled", {"enabled": "false"})
    assert disabled.status_code == 303
    assert disabled.headers["location"] == base
    html = web.get(base).text
    state = block(html, '<p class="webhook-state"')
    assert '<span class="badge webhook-disabled">disabled</span>' in state
    assert "disabled by an admin" in state
    assert ">Enable</button>" in html
    found = store.get(subscription.subscription_id)
    assert found is not None
    assert not found.enabled
    assert "webhook-disabled" in web.get(PAGE).text

    assert web.post(f"{base}/enabled", {"enabled": "true"}).status_code == 303
    found = store.get(subscription.subscription_id)
    assert found is not None
    assert found.enabled
    assert ">Disable</button>" in web.get(base).text


def test_an_enabled_value_other_than_true_or_false_is_refused(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    answer = web.post(f"{PAGE}/{subscription.subscription_id}/enabled", {"enabled": "maybe"})
    assert answer.status_code == 422
    assert refusal_of(answer.text) == "enabled: true or false"
    assert store.list() == [subscription]


def test_rotating_shows_the_new_secret_once(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    first = web.post(PAGE, form(receiver))
    (subscription,) = store.list()
    base = f"{PAGE}/{subscription.subscription_id}"
    with structlog.testing.capture_logs() as logs:
        answer = web.post(f"{base}/rotate")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["hx-push-url"] == base
    box = block(answer.text, '<section class="card secret-box"')
    assert "New signing secret" in box
    assert "Copy it now: it is not shown again." in box
    (new,) = SECRET.findall(answer.text)
    assert new not in SECRET.findall(first.text)
    assert new not in repr(logs)
    assert "Previous secret signs until" in answer.text
    assert not SECRET.search(web.get(base).text)


def test_deleting_goes_back_to_the_list(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    subscription = added(web, store, receiver)
    base = f"{PAGE}/{subscription.subscription_id}"
    assert 'id="delete-confirm"' in web.get(base).text
    answer = web.post(f"{base}/delete")
    assert answer.status_code == 303
    assert answer.headers["location"] == PAGE
    assert store.list() == []
    assert "No webhook subscriptions yet" in web.get(PAGE).text
    assert web.get(base).status_code == 404
    for action in ("rotate", "test", "delete"):
        assert web.post(f"{base}/{action}").status_code == 404, action
    assert web.post(f"{base}/enabled", {"enabled": "true"}).status_code == 404


def test_an_unknown_subscription_is_not_found(web: WebUser) -> None:
    answer = web.get(f"{PAGE}/00000000-0000-4000-8000-000000000000")
    assert answer.status_code == 404
    assert "there is no webhook subscription" in answer.text


def test_the_pages_hold_no_inline_code_and_carry_the_security_headers(
    web: WebUser, store: SubscriptionStore, receiver: Receiver
) -> None:
    created = web.post(PAGE, form(receiver))
    (subscription,) = store.list()
    base = f"{PAGE}/{subscription.subscription_id}"
    answers = [created, web.get(PAGE), web.get(base), web.post(f"{base}/test")]
    answers.append(web.post(f"{base}/rotate"))
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert read(answer.text).inline == []
        assert "script-src 'self'" in answer.headers["content-security-policy"]
