"""What monitoring systems send: Alertmanager (v4), Grafana (v1) and the signed generic shape.

The senders' models ignore fields they do not know (new versions add some) but insist
on the fields the service uses, with their types: a notification that lacks one is
refused with the path of every problem, and nothing is stored.

Text in Alertmanager's and Grafana's documents is refused only when it cannot be stored
(a NUL): they drop a notification answered with a 4xx, and a control character in a
label is no reason to lose an alert (see ``application.text_fields``). The generic shape is
ours, so its fields follow the API's rules.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import ExtraValues, JsonDict

from application.input_times import AlertmanagerEnd, AlertmanagerTime, RequestTime
from application.text_fields import SingleLine, Storable, StorableJson
from domain.values import AlertStatus

Text = Storable[str]
Labels = dict[Text, Text]

_ALERT: JsonDict = {
    "status": "firing",
    "labels": {"alertname": "HighErrorRate", "service": "payments-api", "severity": "critical"},
    "annotations": {"summary": "Error rate above 5% on payments-api"},
    "startsAt": "2026-11-27T01:57:56.045467338Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph",
    "fingerprint": "43e5a0e0ea2e10f5",
}
_GROUP: JsonDict = {
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "incident-ledger",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
    "commonAnnotations": {"summary": "Error rate above 5% on payments-api"},
    "externalURL": "http://alertmanager:9093",
}
ALERTMANAGER_EXAMPLE: JsonDict = {"version": "4", **_GROUP, "alerts": [_ALERT]}
GRAFANA_EXAMPLE: JsonDict = {
    "version": "1",
    **_GROUP,
    "orgId": 1,
    "title": "[FIRING:1] HighErrorRate",
    "state": "alerting",
    "message": "Error rate above 5% on payments-api",
    "alerts": [
        {
            **_ALERT,
            "dashboardURL": "http://grafana:3000/d/payments",
            "panelURL": "http://grafana:3000/d/payments?viewPanel=2",
            "silenceURL": "http://grafana:3000/alerting/silence/new",
            "values": {"A": 0.07},
        }
    ],
}


def with_examples(*examples: JsonDict, extra: ExtraValues = "ignore") -> ConfigDict:
    """A frozen document's configuration, with these examples for the OpenAPI document."""
    return ConfigDict(extra=extra, frozen=True, json_schema_extra={"examples": list(examples)})


class Sent(BaseModel):
    """A sender's document: camelCase names, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel)


class AlertmanagerAlert(Sent):
    status: AlertStatus
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: AlertmanagerTime
    ends_at: AlertmanagerEnd | None = Field(
        default=None, description='"0001-01-01T00:00:00Z" while the alert fires.'
    )
    generator_url: Text = Field(default="", alias="generatorURL", max_length=2_000)
    fingerprint: Text = Field(min_length=1, max_length=100)


class AlertGroup(Sent):
    """What Alertmanager and Grafana both send: one alert group's snapshot."""

    version: str
    group_key: Text = Field(min_length=1, max_length=4_000)
    truncated_alerts: StrictInt = Field(default=0, ge=0)
    status: AlertStatus
    receiver: Text = Field(min_length=1, max_length=500)
    group_labels: Labels = Field(default_factory=dict)
    common_labels: Labels = Field(default_factory=dict)
    common_annotations: Labels = Field(default_factory=dict)
    external_url: Text = Field(default="", alias="externalURL", max_length=2_000)


class AlertmanagerPayload(AlertGroup):
    """Alertmanager's webhook notification (``version: "4"``): one alert group's snapshot."""

    model_config = ConfigDict(json_schema_extra={"examples": [ALERTMANAGER_EXAMPLE]})

    version: Literal["4"]
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=10_000)


class GrafanaAlert(AlertmanagerAlert):
    dashboard_url: Text = Field(default="", alias="dashboardURL", max_length=2_000)
    panel_url: Text = Field(default="", alias="panelURL", max_length=2_000)
    silence_url: Text = Field(default="", alias="silenceURL", max_length=2_000)
    image_url: Text = Field(default="", alias="imageURL", max_length=2_000)
    values: dict[Text, StrictFloat | None] | None = None
    value_string: Text = Field(default="", max_length=10_000)


class GrafanaPayload(AlertGroup):
    """Grafana's webhook contact point (``version: "1"``): Alertmanager's shape and more."""

    model_config = ConfigDict(json_schema_extra={"examples": [GRAFANA_EXAMPLE]})

    version: Literal["1"]
    receiver: Text = Field(default="", max_length=500)
    org_id: StrictInt = Field(ge=0)
    title: Text = Field(default="", max_length=10_000)
    state: Text = Field(default="", max_length=100)
    message: Text = Field(default="", max_length=100_000)
    alerts: list[GrafanaAlert] = Field(min_length=1, max_length=10_000)


class GenericEvent(BaseModel):
    """The signed generic webhook: one alert, firing or resolved, known by its dedup key."""

    model_config = with_examples(
        {
            "title": "Checkout latency above 2s",
            "severity": "critical",
            "dedup_key": "checkout-latency",
            "status": "firing",
            "details": {"p99_ms": 2300},
            "occurred_at": "2026-11-27T14:00:00Z",
        },
        extra="forbid",
    )

    title: SingleLine[str] | None = Field(default=None, min_length=1, max_length=200)
    severity: SingleLine[str] | None = Field(
        default=None,
        max_length=100,
        description="critical, error, high, warning, info (INCIDENTS_SEVERITY_MAP) or SEV1..SEV5.",
    )
    dedup_key: SingleLine[str] = Field(min_length=1, max_length=255)
    status: AlertStatus
    details: StorableJson[dict[str, Any]] = Field(default_factory=dict)
    occurred_at: RequestTime | None = Field(
        default=None, description="When it fired or resolved (defaults to when it is received)."
    )

    @model_validator(mode="after")
    def _title_to_fire(self) -> GenericEvent:
        if self.status is AlertStatus.FIRING and self.title is None:
            raise ValueError("a firing alert needs a title")
        return self
