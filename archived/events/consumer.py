"""The contract of an event consumer: what the dispatcher feeds from the outbox (the live bus today, external
connectors later)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from archived.store.events import StoredEvent


class EventConsumer(Protocol):
    """Receives the outbox's events in order, each exactly once per position it acknowledges.

    `name` keys the consumer's position in the store, so it must stay the same across restarts. `deliver` returns
    once the events are handed on; raising makes the dispatcher retry the same events later (with backoff), so a
    consumer never skips one. The position is stored after `deliver` returns: a daemon killed in between delivers
    that batch again after the restart, with the same ids, which a consumer with side effects outside the store
    can use to drop the repeat.
    """

    name: str

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Hand on `events` (oldest first, ids increasing)."""
        ...
