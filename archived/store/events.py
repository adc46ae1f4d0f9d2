"""The event outbox: durable events, written in the same transaction as the change that caused them, read in order
by the dispatcher; each consumer's position; the retention sweep of delivered events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from archived.protocol.events import EventPayload
from archived.storable_text import storable_text
from archived.store.database import Database

SWEEP_CHUNK = 5000  # rows deleted per transaction: jobs never wait long for the store during a sweep


@dataclass(frozen=True)
class StoredEvent:
    """One outbox row, as consumers receive it."""

    id: int
    kind: str
    version: int
    job_id: str | None
    data: dict[str, Any]
    at: float  # Unix time it was recorded


class EventOutbox:
    """Writes and reads the `events` table and the consumers' positions in `event_consumers`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every commit that added events (the dispatcher's wake-up)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling `callback`."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    async def record(self, conn: aiosqlite.Connection, event: EventPayload, *, job_id: str | None) -> None:
        """Append a durable event inside the caller's transaction; listeners hear of it once that commits."""
        if not event.DURABLE:
            raise ValueError(f"{event.KIND} is a live notification, not an outbox event")
        # A name a driver passed on as is may hold a lone surrogate: the event says what the store keeps (U+FFFD).
        payload = storable_text(json.dumps(event.to_data(), ensure_ascii=False))
        await conn.execute(
            "INSERT INTO events (kind, version, job_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (event.KIND.value, event.VERSION, job_id, payload, time.time()),
        )
        self.db.after_commit(self._notify)

    async def append(self, event: EventPayload, *, job_id: str | None) -> None:
        """Record an event that belongs to no other change (e.g. a storage write starting), in its own transaction."""
        async with self.db.transaction() as conn:
            await self.record(conn, event, job_id=job_id)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    async def after(self, last_id: int, *, limit: int = 500) -> list[StoredEvent]:
        """Committed events with an id greater than `last_id`, oldest first."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                "SELECT id, kind, version, job_id, payload, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, limit),
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [StoredEvent(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

    async def newest_id(self) -> int:
        """The id of the newest committed event (0 for none)."""
        async with self.db.committed_view() as conn, conn.execute("SELECT COALESCE(MAX(id), 0) FROM events") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def oldest_id(self) -> int | None:
        """The id of the oldest event still kept."""
        async with self.db.committed_view() as conn, conn.execute("SELECT MIN(id) FROM events") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def positions(self) -> dict[str, int]:
        """Every consumer's stored position (the last event id delivered to it)."""
        async with (
            self.db.committed_view() as conn,
            conn.execute("SELECT name, last_id FROM event_consumers ORDER BY name") as cur,
        ):
            return {row[0]: int(row[1]) for row in await cur.fetchall()}

    async def save_position(self, consumer: str, last_id: int) -> None:
        """Record that every event up to `last_id` was delivered to `consumer`."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO event_consumers (name, last_id, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id, updated_at = excluded.updated_at",
                (consumer, last_id, time.time()),
            )

    async def sweep_delivered(self, *, before: float, delivered_up_to: int) -> int:
        """Delete events recorded before `before` whose id is at most `delivered_up_to` (every consumer has them);
        returns how many were deleted.

        The newest event always stays: event ids are SQLite rowids (no AUTOINCREMENT), so an empty table would hand
        out ids from 1 again, below every consumer's stored position, and no consumer would see another event."""
        deleted = 0
        while True:
            # Look first: a write transaction that deletes nothing would still count as the store being writable.
            async with (
                self.db.committed_view() as conn,
                conn.execute(
                    "SELECT id FROM events WHERE id <= ? AND created_at < ? "
                    "AND id < (SELECT MAX(id) FROM events) ORDER BY id LIMIT ?",
                    (delivered_up_to, before, SWEEP_CHUNK),
                ) as cur,
            ):
                ids = [int(row[0]) for row in await cur.fetchall()]
            if not ids:
                return deleted
            async with self.db.transaction() as conn:
                await conn.execute(
                    "DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
                )
            deleted += len(ids)
            if len(ids) < SWEEP_CHUNK:
                return deleted
