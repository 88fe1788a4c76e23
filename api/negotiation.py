"""Content negotiation: which of JSON and one other media type a client's Accept prefers."""

from __future__ import annotations

from fastapi import HTTPException

JSON = "application/json"


def quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type`` (0 when it is not acceptable)."""
    best = 0.0
    kind = media_type.split("/")[0]
    for part in accept.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() not in (media_type, f"{kind}/*", "*/*"):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def prefers(accept: str | None, media_type: str, what: str) -> bool:
    """Whether ``accept`` prefers ``media_type`` to JSON (JSON when there is no Accept);
    406 naming both when it accepts neither. ``what`` names what is served."""
    if not accept:
        return False
    other, json = quality(accept, media_type), quality(accept, JSON)
    if other <= 0 and json <= 0:
        raise HTTPException(406, f"{what} served as {JSON} or {media_type}")
    return other > json
