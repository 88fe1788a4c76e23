"""The service's configuration, read from ``INCIDENTS_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.values import Severity


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENTS_", extra="ignore")

    database_url: str = "sqlite:///./var/incidents.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    """NORMAL in WAL mode survives a crash of the process, not always a power loss."""
    command_retries: int = 5
    """How often a command without If-Match is retried after losing a race for its stream."""
    db_pool_size: int = Field(default=20, ge=1, le=200)
    """Connections kept open; requests run on up to 40 threads, and a thread that finds
    the pool empty opens and later closes a connection of its own, which costs more
    than the query it runs."""
    projection_mode: Literal["inline", "worker"] = "inline"
    """inline: read models change in the append transaction; worker: `incidents project` does it."""
    read_wait_seconds: float = 5.0
    """How long a read with ?min_position= waits for the read models to reach that position."""
    admin_token: str | None = None
    """Seeds an admin token with exactly this value at start-up (deployments, tests)."""
    ready_max_lag: int = 1000
    """/readyz fails while any projection is further behind the log than this many positions."""
    severity_map: dict[str, Severity] = Field(default_factory=dict)
    """INCIDENTS_SEVERITY_MAP: a JSON object from an alert's ``severity`` label to SEV1..SEV5,
    over the defaults (critical SEV1, error and high SEV2, warning SEV3, info SEV4, and
    ``none``, for alerts without a known severity, SEV3)."""
    auto_resolve: bool = False
    """Resolve an incident when the last of its alerts resolves (always recorded either way)."""
    hook_signature_max_age_seconds: int = 300
    """How old (or how far ahead) a signed generic webhook's timestamp may be."""
    events_stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    """GET /events/stream sends a ``: heartbeat`` comment this often, so proxies keep it open."""
    events_stream_poll_seconds: float = Field(default=1.0, gt=0)
    """How often an idle stream reads the log; on PostgreSQL a NOTIFY wakes it sooner."""
    events_stream_retry_ms: int = Field(default=3000, ge=0)
    """The ``retry:`` hint: how long an EventSource client waits before reconnecting."""
    events_stream_max_clients: int = Field(default=100, ge=0)
    """Open streams this process serves at once; one more is refused with 503."""
    events_stream_max_seconds: float | None = Field(default=900.0, gt=0)
    """A stream ends after this long and its client resumes with Last-Event-ID, which
    re-checks its token and spreads clients over replicas again (None: never ends)."""
    session_key: str | None = Field(default=None, min_length=32)
    """INCIDENTS_SESSION_KEY: signs the web interface's session cookies. Unset, each
    process draws a random key at start, so a restart signs everyone out (and several
    processes behind one address need the same key)."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """A web session ends this long after sign-in, whatever happens."""
    alert_labels: str = "team,env,cluster"
    """INCIDENTS_ALERT_LABELS: alert labels (comma-separated names) an incident takes as its
    own labels when an alert declares or joins it; empty for none."""
    postmortem_due_business_days: int = Field(default=5, ge=0, le=60)
    """A postmortem without a due date of its own is due this many business days (Monday
    to Friday) after the incident was resolved."""

    public_url: str | None = None
    """INCIDENTS_PUBLIC_URL: the address people and receivers reach this service at, for the
    links in outbound webhooks (unset: http://HOST:PORT)."""
    secret_key: str | None = Field(default=None, repr=False)
    """INCIDENTS_SECRET_KEY: a Fernet key (``incidents webhooks new-key`` prints one) that
    encrypts the webhooks' signing secrets in the database. Unset, the key is read from
    ``secret_key_file``, made there on first use."""
    secret_key_file: str = "./var/secret.key"  # noqa: S105 - a path, not a secret
    """Where the key lives when INCIDENTS_SECRET_KEY is unset: keep it out of database dumps."""
    log_signing_key_file: str = "./var/log-signing.key"
    """The Ed25519 key that signs checkpoints of the log (PEM; made on first use, mode 0600)."""
    checkpoint_minutes: float = Field(default=10.0, ge=0)
    """INCIDENTS_CHECKPOINT_MINUTES: ``serve`` stores a signed checkpoint of the log this often
    while the log moves (GET /log/checkpoints lists them); 0 stores none."""
    webhooks_allow_http: bool = False
    """Accept subscriptions to http:// addresses (https:// only otherwise)."""
    webhooks_allow_private: bool = False
    """Deliver to loopback, private and link-local addresses (refused otherwise, checked on
    every connection after DNS resolution): tests and self-hosted networks."""
    webhooks_concurrency: int = Field(default=8, ge=1, le=100)
    """Subscriptions delivered to at once by one process; each delivers one event at a time."""
    webhooks_poll_seconds: float = Field(default=0.25, gt=0)
    """How often an idle deliverer looks for new events (an append in this process wakes it)."""
    webhooks_deliver: bool = True
    """Run the deliverer in ``serve`` (inline projections) and ``project`` workers."""

    @property
    def base_url(self) -> str:
        """Where links in outbound messages point, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def alert_label_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k.strip() for k in self.alert_labels.split(",") if k.strip()))
