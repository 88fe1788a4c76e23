"""Persistent collections for an incident's state: a change makes a new value in O(log n).

State is replaced, never changed, at every event. Copying a dict or a frozenset of every
note or alert to add one made folding an incident quadratic in its size: an incident
with 20,000 notes or an alert storm spent most of a command's time there. These share
structure with the value they were made from (a hash array mapped trie from ``immutables``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Set
from typing import Any, TypeVar

from immutables import Map

T = TypeVar("T", bound=Hashable)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PersistentMap(Mapping[K, V]):
    """An immutable mapping whose ``set`` and ``delete`` share the rest; equal to any
    mapping with the same items (a dict included)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._items: Map[K, V] = Map(items)

    @classmethod
    def _of(cls, items: Map[K, V]) -> PersistentMap[K, V]:
        made: PersistentMap[K, V] = cls.__new__(cls)
        made._items = items
        return made

    def set(self, key: K, value: V) -> PersistentMap[K, V]:
        """This mapping with ``key`` set to ``value``."""
        return self._of(self._items.set(key, value))

    def delete(self, key: K) -> PersistentMap[K, V]:
        """This mapping without ``key`` (the same one when it has no such key)."""
        return self._of(self._items.delete(key)) if key in self._items else self

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"PersistentMap({dict(self._items)!r})"


class PersistentSet(Set[T]):
    """An immutable set whose ``add`` shares the rest; compares equal to any set alike."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: Map[T, None] = Map((item, None) for item in items)

    @classmethod
    def _from_iterable(cls, items: Iterable[Any]) -> PersistentSet[Any]:
        return cls(items)

    def add(self, item: T) -> PersistentSet[T]:
        """This set with ``item``."""
        made = PersistentSet.__new__(PersistentSet)
        made._items = self._items.set(item, None)
        return made

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"PersistentSet({set(self._items)!r})"


__all__ = ["PersistentMap", "PersistentSet"]
