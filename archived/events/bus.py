"""The in-process event bus: the live feed of socket subscribers (the TUI, `jobs watch`, `jobs logs --follow`).

Durable events reach the bus through the outbox: `BusConsumer` is the dispatcher's consumer that publishes them
here. Only live notifications (progress, course refreshes) are published on the bus directly. Every subscriber
has its own queue. Progress events carry a coalescing key (one per job): a pending progress event is replaced by
a newer one instead of queueing behind it, so a slow client never falls behind on progress. State changes are
never dropped; a subscriber that lets too many pile up is cut off (and told so) rather than silently losing one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archived.protocol.events import EventPayload
from archived.store.events import StoredEvent


@dataclass(frozen=True)
class Event:
    """Something that happened, as subscribers see it."""

    kind: str  # a wire name of `archived.protocol.events.EventKind`
    data: dict[str, Any]
    job_id: str | None = None
    coalesce_key: str | None = None
    at: float = field(default_factory=time.time)
    id: int | None = None  # the outbox id of a durable event
    version: int = 1  # the payload's schema version

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the params of an `event` notification, `archived.protocol.events.EventNotification`)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "version": self.version,
            "job_id": self.job_id,
            "at": self.at,
            "data": self.data,
        }

    @classmethod
    def notification(
        cls, payload: EventPayload, job_id: str | None = None, *, coalesce_key: str | None = None
    ) -> Event:
        """A live notification (not durable: progress, course refreshes) from its payload model."""
        return cls(payload.KIND.value, payload.to_data(), job_id, coalesce_key, version=payload.VERSION)

    @classmethod
    def from_outbox(cls, stored: StoredEvent) -> Event:
        """A durable event as the dispatcher read it from the outbox."""
        return cls(stored.kind, stored.data, stored.job_id, at=stored.at, id=stored.id, version=stored.version)


_subscription_ids = itertools.count(1)


class SubscriptionOverflow(Exception):
    """The subscriber fell too far behind on events that may not be dropped."""


class Subscription:
    """One subscriber's filtered, coalescing queue."""

    def __init__(
        self, bus: EventBus, kinds: Iterable[str] | None, job_ids: Iterable[str] | None, max_pending: int
    ) -> None:
        self._bus = bus
        self.id = next(_subscription_ids)
        self.kinds = frozenset(kinds) if kinds else None
        self.job_ids = frozenset(job_ids) if job_ids else None
        self._max_pending = max_pending
        self._order: deque[str | Event] = deque()  # a coalescing key, or an event that must not be dropped
        self._latest: dict[str, Event] = {}
        self._ready = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def matches(self, event: Event) -> bool:
        """Whether this subscriber wants the event."""
        if self.kinds is not None and event.kind not in self.kinds and event.kind.split(".")[0] not in self.kinds:
            return False
        return self.job_ids is None or event.job_id in self.job_ids

    def deliver(self, event: Event) -> None:
        """Queue an event (called by the bus)."""
        if self.closed or self.overflowed:
            return
        if event.coalesce_key is not None:
            if event.coalesce_key not in self._latest:
                self._order.append(event.coalesce_key)
            self._latest[event.coalesce_key] = event
        else:
            self._order.append(event)
        if len(self._order) > self._max_pending:
            self.overflowed = True
        self._ready.set()

    async def get(self) -> Event:
        """The next event; raises `SubscriptionOverflow` once the subscriber has fallen too far behind."""
        while True:
            if self.overflowed:
                raise SubscriptionOverflow(f"more than {self._max_pending} undelivered events")
            if self._order:
                item = self._order.popleft()
                if isinstance(item, Event):
                    return item
                return self._latest.pop(item)
            self._ready.clear()
            await self._ready.wait()

    def pending(self) -> int:
        """Events waiting to be read."""
        return len(self._order)

    def close(self) -> None:
        """Stop receiving events."""
        self.closed = True
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of events to subscribers."""

    def __init__(self, *, max_pending: int = 10_000) -> None:
        self._subscribers: set[Subscription] = set()
        self._max_pending = max_pending

    def subscribe(self, *, kinds: Iterable[str] | None = None, job_ids: Iterable[str] | None = None) -> Subscription:
        """A new subscription; `kinds` may name exact kinds (`job.state`) or families (`job`)."""
        subscription = Subscription(self, kinds, job_ids, self._max_pending)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a subscription."""
        self._subscribers.discard(subscription)

    def publish(self, event: Event) -> None:
        """Hand an event to every matching subscriber (never blocks)."""
        for subscription in list(self._subscribers):
            if subscription.matches(event):
                subscription.deliver(event)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscribers)


class BusConsumer:
    """The live bus as a consumer of the outbox: publishes each delivered event to the matching subscribers."""

    name = "live-bus"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Publish the events in order (never blocks: a subscriber that falls too far behind is cut off)."""
        for stored in events:
            self.bus.publish(Event.from_outbox(stored))
