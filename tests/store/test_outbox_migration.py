"""A store written before the outbox was read (schema 3) upgrades in place: its old events are history, not
pending work, so no consumer is fed years of them after the upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archived.events.dispatcher import EventDispatcher
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.migrations import MIGRATIONS
from tests.events.conftest import RecordingConsumer, write_event


def schema_3_store(path: Path) -> None:
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    db.executemany(
        "INSERT INTO events (kind, job_id, payload, created_at) VALUES (?, NULL, ?, 0)",
        [("job.state", '{"from": "queued", "to": "store", "reason": ""}')] * 3,
    )
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()


async def test_an_upgraded_store_feeds_consumers_from_the_upgrade_on(tmp_path: Path) -> None:
    path = tmp_path / "archived.sqlite3"
    schema_3_store(path)
    db = await Database.open(path)
    try:
        store = JobStore(db)
        old = [event.id for event in await store.outbox.after(0)]
        assert len(old) == 3 and all(e.version == 1 for e in await store.outbox.after(0))
        consumer = RecordingConsumer()
        dispatcher = EventDispatcher(store.outbox, [consumer], poll_seconds=3600)
        await dispatcher.start()
        try:
            await write_event(store.outbox, "new.zip")
            assert await dispatcher.flush(10)
            assert [e.data["name"] for e in consumer.received] == ["new.zip"]
            assert dispatcher.delivered_up_to() == consumer.ids[-1]  # the old events count as delivered
        finally:
            await dispatcher.stop()
    finally:
        await db.close()
