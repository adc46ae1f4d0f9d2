"""A real job store on a temporary folder, and a consumer that records what it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from archived.protocol.events import StorageWriteCreated
from archived.store.database import Database
from archived.store.events import EventOutbox, StoredEvent
from archived.store.jobs import JobStore


class RecordingConsumer:
    """A durable consumer for tests: keeps every event it was given, in order; can be told to fail."""

    def __init__(self, name: str = "recorder", *, failures: int = 0) -> None:
        self.name = name
        self.received: list[StoredEvent] = []
        self.failures = failures  # how many deliveries fail before one succeeds
        self.attempts = 0

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Record `events`, or fail while failures are left."""
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the receiving end is down")
        self.received.extend(events)

    @property
    def ids(self) -> list[int]:
        """The ids received, in order."""
        return [event.id for event in self.received]


async def write_event(outbox: EventOutbox, name: str = "archive.zip") -> None:
    """One durable event in its own transaction."""
    await outbox.append(StorageWriteCreated(target="local", name=name, size=1, sha256="0" * 64), job_id=None)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    db = await Database.open(tmp_path / "archived.sqlite3")
    yield JobStore(db)
    await db.close()
