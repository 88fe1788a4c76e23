"""Reading text/event-stream bodies the way an EventSource client does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Message:
    """One dispatched block: an event (with ``data``), a ``retry:`` hint, or comments."""

    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        return bool(self.data)

    @property
    def position(self) -> int:
        assert self.id is not None, self
        return int(self.id)

    def json(self) -> Any:
        return orjson.loads("\n".join(self.data))


def messages(lines: Iterable[str]) -> Iterator[Message]:
    """The blocks of a stream, each yielded at the blank line that ends it."""
    current = Message()
    for line in lines:
        if line == "":
            if current != Message():
                yield current
            current = Message()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                current.id = value
            elif name == "event":
                current.event = value
            elif name == "data":
                current.data.append(value)
            elif name == "retry":
                current.retry = int(value)


def parse(body: str) -> list[Message]:
    """Every block of a whole body."""
    return list(messages(body.splitlines()))
