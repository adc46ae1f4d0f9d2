"""Answers that hold while the store is unchanged: how many jobs match a filter, a page of `jobs.list`. Twenty
clients showing the same list ask the same question many times between two writes; each is answered once per
version of the store rather than once per call.

A version is SQLite's `PRAGMA data_version` of the connection that reads it: SQLite moves it whenever any other
connection commits, so a write by any part of the daemon (or by a tool beside it) retires every answer at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# Answers kept at once (a TUI's few views, the CLI's filters); the least recently used go first.
DEFAULT_CAPACITY = 64


class VersionedCache(Generic[V]):
    """Values by key, valid for one version of the store; a new version empties it. Used from one thread."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._version: int | None = None
        self._values: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, version: int, key: Hashable) -> V | None:
        """The value kept for `key` at this version of the store, if there is one."""
        if version != self._version:
            self._version = version
            self._values.clear()
            return None
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, version: int, key: Hashable, value: V) -> None:
        """Keep a value computed at (or after) this version of the store."""
        if version != self._version:
            self._version = version
            self._values.clear()
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.capacity:
            self._values.popitem(last=False)
