"""The event dispatcher: the one path from the outbox to every consumer.

Each consumer has a lane: a task that reads the committed events after the consumer's position, delivers them in
order and stores the new position. A commit that adds events wakes every lane at once (the TUI sees a state
change without a polling delay); a slow poll is the safety net. A consumer that fails is retried with backoff
without holding up the others. A consumer seen for the first time starts at the newest event: it gets what
happens from then on, not the store's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from archived.events.consumer import EventConsumer
from archived.store.database import StoreUnwritable
from archived.store.events import EventOutbox

log = logging.getLogger("archived.events")

SAFETY_POLL_SECONDS = 5.0
BATCH_SIZE = 500
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0


@dataclass
class _Lane:
    """One consumer's position and its task."""

    consumer: EventConsumer
    position: int  # the last event id delivered
    saved: int  # the last position written to the store
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    failures: int = 0


class EventDispatcher:
    """Delivers the outbox's events to every consumer, each from its own stored position."""

    def __init__(
        self,
        outbox: EventOutbox,
        consumers: Sequence[EventConsumer],
        *,
        poll_seconds: float = SAFETY_POLL_SECONDS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        names = [c.name for c in consumers]
        if len(set(names)) != len(names):
            raise ValueError(f"event consumers need distinct names, got {names}")
        self.outbox = outbox
        self._consumers = list(consumers)
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lanes: dict[str, _Lane] = {}
        self._delivered = asyncio.Event()  # set after every delivered batch (for `flush`)
        self._stopped = False  # stop() was called
        self._closed = False  # the lanes end their loops

    async def start(self) -> None:
        """Load the positions (new consumers start at the newest event) and start delivering."""
        stored = await self.outbox.positions()
        newest = await self.outbox.newest_id()
        oldest = await self.outbox.oldest_id()
        for consumer in self._consumers:
            position = stored.get(consumer.name)
            if position is None:
                position = newest
                await self.outbox.save_position(consumer.name, position)
            elif oldest is not None and position + 1 < oldest:
                log.warning(
                    "event consumer %s was away while events %d to %d were swept by retention; it continues at %d",
                    consumer.name,
                    position + 1,
                    oldest - 1,
                    oldest,
                )
            self._lanes[consumer.name] = _Lane(consumer, position, position)
        self.outbox.add_listener(self.wake)
        for lane in self._lanes.values():
            lane.task = asyncio.create_task(self._run(lane), name=f"events-{lane.consumer.name}")

    def wake(self) -> None:
        """New events were committed: every lane looks now instead of at its next poll."""
        for lane in self._lanes.values():
            lane.wakeup.set()

    def positions(self) -> dict[str, int]:
        """The last event id delivered to each consumer."""
        return {name: lane.position for name, lane in self._lanes.items()}

    def delivered_up_to(self) -> int | None:
        """The newest event id every consumer has received (None without consumers)."""
        return min((lane.position for lane in self._lanes.values()), default=None)

    async def flush(self, seconds: float) -> bool:
        """Wait until every consumer has what was committed up to now; False if `seconds` passed first."""
        target = await self.outbox.newest_id()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while any(lane.position < target for lane in self._lanes.values()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._delivered.clear()
            self.wake()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._delivered.wait()
        return True

    async def stop(self, *, flush_seconds: float = 5.0) -> None:
        """Deliver what is pending (for at most `flush_seconds`), then stop; positions are stored. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if flush_seconds > 0 and self._lanes:
            with contextlib.suppress(Exception):
                if not await self.flush(flush_seconds):
                    log.warning("stopping with events undelivered (they are delivered after the next start)")
        self._closed = True
        self.outbox.remove_listener(self.wake)
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for lane in self._lanes.values():
            if lane.position != lane.saved:
                with contextlib.suppress(Exception):
                    await self.outbox.save_position(lane.consumer.name, lane.position)

    async def _run(self, lane: _Lane) -> None:
        while not self._closed:
            lane.wakeup.clear()  # before reading: a commit from now on wakes the next wait
            try:
                more = await self._deliver_batch(lane)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                lane.failures += 1
                delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (lane.failures - 1))
                log.warning(
                    "event consumer %s failed after event %d (%s: %s); trying again in %.0f s",
                    lane.consumer.name,
                    lane.position,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            lane.failures = 0
            if not more:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives
                # as the wake-up does, and the lane would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await lane.wakeup.wait()

    async def _deliver_batch(self, lane: _Lane) -> bool:
        """Deliver the next batch; True if a full batch went out (more may be waiting)."""
        events = await self.outbox.after(lane.position, limit=self._batch_size)
        if not events:
            return False
        await lane.consumer.deliver(events)
        lane.position = events[-1].id
        self._delivered.set()
        try:
            await self.outbox.save_position(lane.consumer.name, lane.position)
            lane.saved = lane.position
        except StoreUnwritable:
            pass  # kept in memory and stored with the next batch; the store's problem is reported elsewhere
        return len(events) == self._batch_size
