"""The composition root: settings in, the service's parts out, wired once per process.

The HTTP application (``api.app``) and every command of the command line start here,
so an engine is configured one way whoever opens it and the command service always
has its projections and its write-health hook. Nothing connects until first use.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from application.alert_ingestion import Generations
from application.checkpoint_schedule import CheckpointSchedule
from application.database_health import WriteHealth
from application.integrations import IntegrationStore
from application.log_checkpoints import LogSigner
from application.log_watcher import LogWatcher
from application.publication_proofs import PublicationProver
from application.service import IncidentService
from application.settings import Settings
from application.tokens import Scope, TokenStore
from application.web_sessions import SessionCodec
from eventstore import EventStore
from eventstore.engine import create_engine
from eventstore.sealed_text import TextVault, install_vault
from outbound.deliverer import Deliverer
from outbound.http_sender import Sender
from outbound.secret_box import SecretBox, load_key
from outbound.subscriptions import SubscriptionStore
from projections.base import Projection
from projections.rebuild import rebuild_outdated
from projections.runner import ProjectionRunner, default_projections

_log = structlog.get_logger()

REBUILD_JOIN_SECONDS = 5.0
"""How long a server that stops waits for a rebuild of outdated read models to finish."""
DELIVERER_JOIN_SECONDS = 16.0
"""How long a server that stops waits for webhook deliveries under way (15 s at most each)."""
CHECKPOINTS_JOIN_SECONDS = 5.0
"""How long a server that stops waits for a scheduled checkpoint being stored."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """One process's parts, made by ``build``; ``close`` releases them."""

    settings: Settings
    engine: Engine
    store: EventStore
    projections: list[Projection]
    service: IncidentService
    tokens: TokenStore
    integrations: IntegrationStore
    alert_generations: Generations
    write_health: WriteHealth
    log_watcher: LogWatcher
    sessions: SessionCodec
    webhooks: SubscriptionStore
    deliverer: Deliverer
    signer: LogSigner
    checkpoints: CheckpointSchedule
    _stop_delivering: threading.Event = field(default_factory=threading.Event)
    _stop_checkpoints: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """A server's life: seed the admin token and start rebuilding outdated read
        models; at the end, wait a little for that rebuild, then close."""
        if self.settings.admin_token:
            self.tokens.ensure("admin", {Scope.ADMIN}, self.settings.admin_token)
        rebuilder = None
        if self.settings.projection_mode == "inline":
            # Read models whose code changed are rebuilt beside the live tables and
            # swapped in; until then the old tables keep answering.
            rebuilder = threading.Thread(
                target=rebuild_outdated, args=(self.engine, self.projections), daemon=True
            )
            rebuilder.start()
        delivering = None
        if self.settings.projection_mode == "inline" and self.settings.webhooks_deliver:
            # With workers, `incidents project` delivers: it follows the log already.
            delivering = threading.Thread(
                target=self.deliverer.run, args=(self._stop_delivering,), daemon=True
            )
            delivering.start()
        checkpointing = None
        if self.checkpoints.enabled:
            checkpointing = threading.Thread(
                target=self.checkpoints.run, args=(self._stop_checkpoints,), daemon=True
            )
            checkpointing.start()
        try:
            yield
        finally:
            self._stop_delivering.set()
            self._stop_checkpoints.set()
            self.deliverer.wake()
            if rebuilder is not None:
                rebuilder.join(timeout=REBUILD_JOIN_SECONDS)
            if delivering is not None:
                delivering.join(timeout=DELIVERER_JOIN_SECONDS)
            if checkpointing is not None:
                checkpointing.join(timeout=CHECKPOINTS_JOIN_SECONDS)
            self.close()

    def close(self) -> None:
        """Stop the log watcher's thread and close the engine's pooled connections."""
        self.log_watcher.close()
        self.deliverer.sender.close()
        self.engine.dispose()


def database_engine(settings: Settings) -> Engine:
    """The engine on ``settings.database_url``, configured as every part of the service uses it.

    Its text vault (eventstore/sealed_text.py) seals note and alert text under the secret
    key: INCIDENTS_SECRET_KEY, else the key file, made on first use.
    """
    engine = create_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # Error messages (logged) never carry bound values: idempotency keys, names.
        hide_parameters=True,
    )
    refuse_a_new_key_for_sealed_data(settings, engine)
    install_vault(engine, TextVault.from_secret(secret_key(settings)))
    return engine


class SecretKeyMissing(RuntimeError):
    """The database holds data sealed under a secret key, and none is configured or found."""


_SEALED_DATA = "SELECT 1 FROM text_keys UNION ALL SELECT 1 FROM webhook_subscriptions LIMIT 1"


def refuse_a_new_key_for_sealed_data(settings: Settings, engine: Engine) -> None:
    """SecretKeyMissing when a key file would be made for a database that already holds
    text or secrets sealed under another key: the command runs from another directory
    than usual (the key file's default path is relative), or the file was lost. A new key
    would open none of it, and would seal what comes next under a key of its own."""
    key_file = key_file_to_make(settings)
    if key_file is None:
        return
    try:
        with engine.connect() as conn:
            sealed = conn.exec_driver_sql(_SEALED_DATA).first() is not None
    except DBAPIError:  # no such tables yet (a new or unmigrated database)
        return
    if sealed:
        raise SecretKeyMissing(
            f"the database holds text and secrets sealed under a secret key, but"
            f" INCIDENTS_SECRET_KEY is not set and there is no key file at {key_file}"
            f" (INCIDENTS_SECRET_KEY_FILE, relative to the directory the command runs in):"
            " run from the directory that holds it, or set either setting; a new key"
            " would open none of it"
        )


def key_file_to_make(settings: Settings) -> Path | None:
    """The key file, when no INCIDENTS_SECRET_KEY is set and the file is not there yet."""
    key_file = Path(settings.secret_key_file)
    configured = settings.secret_key is not None and bool(settings.secret_key.strip())
    return None if configured or key_file.exists() else key_file


def make_secret_key_file(settings: Settings) -> Path | None:
    """The key file, made now when the service will need it and it is not there yet."""
    key_file = key_file_to_make(settings)
    if key_file is not None:
        load_key(None, key_file)
    return key_file


def secret_key(settings: Settings) -> str:
    """INCIDENTS_SECRET_KEY, else the key file's key (made, and said so, on first use)."""
    key_file = Path(settings.secret_key_file)
    made = key_file_to_make(settings) is not None
    key = load_key(settings.secret_key, key_file)
    if made:
        _log.warning(
            "secret_key_file_created",
            path=str(key_file),
            note="it seals note and alert text and webhook secrets: back it up apart from"
            " the database, and keep it; text sealed under it cannot be read without it",
        )
    return key


def build(settings: Settings, *, on_appended: Callable[[int], object] | None = None) -> Runtime:
    """Every part, wired; ``on_appended`` hears how many events each append committed."""
    engine = database_engine(settings)
    write_health = WriteHealth()
    write_health.watch(engine)

    webhooks = webhook_store(settings, engine)
    deliverer = webhook_deliverer(settings, engine, webhooks)

    def appended(count: int) -> None:
        if on_appended is not None:
            on_appended(count)
        write_health.succeeded()  # a committed append: writes work again
        deliverer.wake()

    store = EventStore(engine)
    projections = default_projections()
    inline = settings.projection_mode == "inline"
    signer = LogSigner(engine, Path(settings.log_signing_key_file))
    service = IncidentService(
        store,
        ProjectionRunner(projections) if inline else None,
        retries=settings.command_retries,
        on_appended=appended,
        on_committed=PublicationProver(engine, signer).after_commit,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        store=store,
        projections=projections,
        service=service,
        tokens=TokenStore(engine),
        integrations=IntegrationStore(engine),
        alert_generations=Generations(),
        write_health=write_health,
        log_watcher=LogWatcher(engine, settings.events_stream_poll_seconds),
        sessions=SessionCodec(settings.session_key, settings.session_hours * 3600),
        webhooks=webhooks,
        deliverer=deliverer,
        signer=signer,
        checkpoints=CheckpointSchedule(engine, signer, settings.checkpoint_minutes),
    )


def webhook_store(settings: Settings, engine: Engine) -> SubscriptionStore:
    """Subscriptions whose secrets are sealed with INCIDENTS_SECRET_KEY (or the key file)."""

    @functools.cache
    def box() -> SecretBox:
        return SecretBox(secret_key(settings))

    return SubscriptionStore(engine, box)


def webhook_deliverer(settings: Settings, engine: Engine, store: SubscriptionStore) -> Deliverer:
    """The deliverer of ``serve`` (inline) and of ``incidents project`` workers."""
    sender = Sender(allow_private=settings.webhooks_allow_private)
    return Deliverer(
        engine,
        store,
        sender,
        base_url=settings.base_url,
        concurrency=settings.webhooks_concurrency,
        poll_seconds=settings.webhooks_poll_seconds,
    )
