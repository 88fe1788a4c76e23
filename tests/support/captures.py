"""Requests captured from real monitoring senders (tests/fixtures/monitoring/<name>.json).

Each file holds what one sender posted: ``captured_from`` (sender and version), the
``method``, the ``headers`` and the JSON ``body``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "monitoring"


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return document


def captured(name: str) -> dict[str, Any]:
    """A fresh copy of a captured request body, safe to change in a test."""
    body: dict[str, Any] = copy.deepcopy(_document(name)["body"])
    return body


def headers_of(name: str) -> dict[str, str]:
    headers: dict[str, str] = _document(name)["headers"]
    return headers


def capture_names() -> list[str]:
    """Every capture there is, by name."""
    return sorted(path.stem for path in FIXTURES.glob("*.json"))
