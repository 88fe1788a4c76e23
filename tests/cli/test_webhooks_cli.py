"""``incidents webhooks``: create, list, disable, enable, rotate, delete and new-key, on both
backends; refused values exit 2 naming the field and store nothing."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from application.bootstrap import webhook_store
from application.settings import Settings
from outbound.http_sender import Sender
from outbound.manual_delivery import send_test
from outbound.subscriptions import SubscriptionStore
from tests.cli.runner import run_cli

SECRET_KEY = Fernet.generate_key().decode()
CLOSED_PORT_URL = "http://127.0.0.1:9/hook"
"""Nothing listens on the discard port: an attempt there fails at once."""


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' settings: this key, and local http:// addresses allowed."""
    monkeypatch.setenv("INCIDENTS_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("INCIDENTS_WEBHOOKS_ALLOW_HTTP", "true")
    monkeypatch.setenv("INCIDENTS_WEBHOOKS_ALLOW_PRIVATE", "true")


@pytest.fixture
def webhooks(engine: Engine, database_url: str) -> SubscriptionStore:
    """The subscriptions the commands change, read directly."""
    return webhook_store(Settings(database_url=database_url, secret_key=SECRET_KEY), engine)


def cli(database_url: str, *args: str) -> tuple[int, str, str]:
    done = run_cli("webhooks", *args, "--database-url", database_url)
    return done.exit_code, done.stdout, done.stderr


def created(database_url: str, *args: str) -> tuple[UUID, str]:
    """A new subscription's id and secret, as ``create`` prints them."""
    code, out, err = cli(database_url, "create", "--url", CLOSED_PORT_URL, *args)
    assert code == 0, err
    subscription_id, secret = out.splitlines()
    return UUID(subscription_id), secret


def test_create_list_disable_enable_rotate_and_delete(
    caplog: pytest.LogCaptureFixture,
    database_url: str,
    webhooks: SubscriptionStore,
) -> None:
    caplog.set_level(logging.DEBUG)
    subscription_id, secret = created(
        database_url,
        "--type",
        "incident.",
        "--type",
        "postmortem.published",
        "--format",
        "slack",
        "--description",
        "Ops channel",
        "--severity",
        "SEV1",
        "--service",
        "checkout",
    )
    assert secret.startswith("whsec_")
    stored = webhooks.get(subscription_id)
    assert stored is not None
    assert stored.types == ("incident.", "postmortem.published")
    assert stored.format == "slack"
    assert stored.description == "Ops channel"
    assert (stored.severity, stored.services) == (("SEV1",), ("checkout",))
    assert stored.created_by == "cli"
    with webhooks.engine.connect() as conn:
        assert webhooks.signing_secrets(conn, subscription_id, datetime.now(UTC)) == [secret]

    code, out, err = cli(database_url, "list")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if str(subscription_id) in line]
    for shown in (CLOSED_PORT_URL, "incident., postmortem.published", "slack", "yes"):
        assert shown in row
    assert secret not in out + err

    code, _, err = cli(database_url, "disable", str(subscription_id))
    assert code == 0, err
    disabled = webhooks.get(subscription_id)
    assert disabled is not None
    assert not disabled.enabled
    assert "no (disabled by an admin)" in cli(database_url, "list")[1]

    code, _, err = cli(database_url, "enable", str(subscription_id))
    assert code == 0, err
    enabled = webhooks.get(subscription_id)
    assert enabled is not None
    assert enabled.enabled

    code, out, err = cli(database_url, "rotate", str(subscription_id))
    assert code == 0, err
    (new_secret,) = out.splitlines()
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    rotated = webhooks.get(subscription_id)
    assert rotated is not None
    assert rotated.previous_secret_until is not None
    expected = datetime.now(UTC) + timedelta(hours=24)
    assert abs(rotated.previous_secret_until - expected) < timedelta(minutes=1)
    with webhooks.engine.connect() as conn:
        now = datetime.now(UTC)
        assert webhooks.signing_secrets(conn, subscription_id, now) == [new_secret, secret]

    code, _, err = cli(database_url, "delete", str(subscription_id))
    assert code == 0, err
    assert webhooks.get(subscription_id) is None
    assert str(subscription_id) not in cli(database_url, "list")[1]

    for kept in (secret, new_secret):
        assert kept not in caplog.text


def test_the_listing_shows_the_last_failure(database_url: str, webhooks: SubscriptionStore) -> None:
    subscription_id, _ = created(database_url, "--type", "incident.declared")
    subscription = webhooks.get(subscription_id)
    assert subscription is not None
    sender = Sender(allow_private=True)
    try:
        failed = send_test(
            webhooks, sender, subscription, "http://incidents.test", datetime.now(UTC)
        )
    finally:
        sender.close()
    assert not failed.succeeded

    code, out, err = cli(database_url, "list")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if str(subscription_id) in line]
    assert failed.attempted_at.isoformat(timespec="seconds") in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "incident.nope"), "types[0]: 'incident.nope' is not an event type"),
        (("--type", "incident.", "--type", "nothing."), "types[1]: no event type starts with"),
        (("--type", "incident.", "--severity", "SEV9"), "filter.severity[0]: one of SEV1"),
        (("--type", "incident.", "--service", "a,b"), "filter.services[0]: 1-100 characters"),
    ],
)
def test_refused_values_exit_2_naming_the_field(
    database_url: str, webhooks: SubscriptionStore, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(database_url, "create", "--url", CLOSED_PORT_URL, *args)
    assert code == 2
    assert message in " ".join(err.split())
    assert out == ""
    assert webhooks.list() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/hook", "url: must be https://"),
        ("https://127.0.0.1:9/hook", "url: 127.0.0.1 is a loopback/private address"),
    ],
)
def test_unsafe_addresses_exit_2_naming_the_url(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    webhooks: SubscriptionStore,
    url: str,
    message: str,
) -> None:
    monkeypatch.delenv("INCIDENTS_WEBHOOKS_ALLOW_HTTP")
    monkeypatch.delenv("INCIDENTS_WEBHOOKS_ALLOW_PRIVATE")
    code, out, err = cli(database_url, "create", "--url", url, "--type", "incident.")
    assert code == 2
    assert message in " ".join(err.split())
    assert out == ""
    assert webhooks.list() == []


def test_an_unknown_format_exits_2(database_url: str, webhooks: SubscriptionStore) -> None:
    code, _, err = cli(
        database_url, "create", "--url", CLOSED_PORT_URL, "--type", "incident.", "--format", "teams"
    )
    assert code == 2
    assert "--format" in err
    assert webhooks.list() == []


@pytest.mark.parametrize("command", ["disable", "enable", "delete", "rotate"])
def test_unknown_and_malformed_ids(database_url: str, command: str) -> None:
    unknown = uuid4()
    code, _, err = cli(database_url, command, str(unknown))
    assert code == 1
    assert f"no webhook subscription has the id {unknown}" in err
    code, _, err = cli(database_url, command, "not-an-id")
    assert code == 2
    assert "Invalid value for 'ID'" in err


def test_new_key_prints_a_fernet_key() -> None:
    done = run_cli("webhooks", "new-key")
    assert done.exit_code == 0, done.output
    key = done.stdout.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert key != run_cli("webhooks", "new-key").stdout.strip()


def test_rotate_under_another_key_is_refused_unless_the_key_was_replaced(
    database_url: str, webhooks: SubscriptionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription_id, secret = created(database_url, "--type", "incident.declared")
    monkeypatch.setenv("INCIDENTS_SECRET_KEY", Fernet.generate_key().decode())

    code, out, err = cli(database_url, "rotate", str(subscription_id))

    assert code == 1
    assert "does not open the subscription's secret" in err
    assert "whsec_" not in out
    with webhooks.engine.connect() as conn:  # the service's key still opens what is stored
        assert webhooks.signing_secrets(conn, subscription_id, datetime.now(UTC)) == [secret]

    code, out, err = cli(database_url, "rotate", str(subscription_id), "--key-replaced")
    assert code == 0, err
    replaced = webhook_store(
        Settings(database_url=database_url, secret_key=os.environ["INCIDENTS_SECRET_KEY"]),
        webhooks.engine,
    )
    with replaced.engine.connect() as conn:  # the old secret, unopenable, signs no more
        assert replaced.signing_secrets(conn, subscription_id, datetime.now(UTC)) == [out.strip()]
