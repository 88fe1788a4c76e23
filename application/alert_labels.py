"""Which of an alert's labels become the incident's labels (INCIDENTS_ALERT_LABELS)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter, ValidationError

from domain.commands import AlertReport
from domain.values import AlertStatus, LabelKey, LabelValue

_KEY: TypeAdapter[str] = TypeAdapter(LabelKey)
_VALUE: TypeAdapter[str] = TypeAdapter(LabelValue)


def _valid(adapter: TypeAdapter[str], text: str) -> str | None:
    try:
        return adapter.validate_python(text)
    except ValidationError:
        return None


def incident_labels(alerts: Iterable[AlertReport], keys: Iterable[str]) -> dict[str, str]:
    """For each key, the value the first firing alert gives it.

    A value that is not a valid label value (spaces, commas, too long) is left out rather
    than refusing the alert: monitoring must never lose an alert over a label.
    """
    firing = [report for report in alerts if report.status is AlertStatus.FIRING]
    labels: dict[str, str] = {}
    for key in keys:
        name = _valid(_KEY, key)
        if name is None:
            continue
        for report in firing:
            value = report.labels.get(key)
            checked = _valid(_VALUE, value) if value is not None else None
            if checked is not None:
                labels[name] = checked
                break
    return labels
