"""How many jobs match a filter, counted once per change of the store rather than once per `jobs.list` call (a
count over 10,000 rows was most of a page's cost, and 20 clients asking for the same list count the same rows).

The counts are valid for one `PRAGMA data_version` of the reading connection: SQLite moves it whenever any other
connection commits, so a write by any part of the daemon (or by a tool beside it) makes the next call count again.
"""

from __future__ import annotations

from collections import OrderedDict

# Filters whose counts are kept at once (a TUI's few views, the CLI's filters); the least recently used go first.
DEFAULT_CAPACITY = 64


class JobCounts:
    """Totals by filter (its canonical JSON), for one version of the store."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._version: int | None = None
        self._totals: OrderedDict[str, int] = OrderedDict()

    def get(self, version: int, key: str) -> int | None:
        """The total of a filter counted at this version of the store, if it was."""
        if version != self._version:
            self._version = version
            self._totals.clear()
            return None
        total = self._totals.get(key)
        if total is not None:
            self._totals.move_to_end(key)
        return total

    def put(self, version: int, key: str, total: int) -> None:
        """Keep a filter's total counted at this version of the store."""
        if version != self._version:
            self._version = version
            self._totals.clear()
        self._totals[key] = total
        self._totals.move_to_end(key)
        while len(self._totals) > self.capacity:
            self._totals.popitem(last=False)
