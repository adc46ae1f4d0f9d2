"""Delivery records: what each connector did with each event (the `connector_deliveries` table).

A delivered event is recorded as soon as its receiver accepted it, so a daemon killed before the dispatcher stored
the lane's position does not send it again. An event whose attempts ran out is a dead letter, kept with its body so
that it can be delivered again later (the outbox may have swept it by then).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from archived.connectors.body import EventBody
from archived.store.database import Database


class DeliveryState(StrEnum):
    """Where an event stands with one connector."""

    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True)
class DeliveryRecord:
    """One row: an event and one connector."""

    id: int
    connector: str
    event_id: int
    kind: str
    job_id: str | None
    state: DeliveryState
    attempts: int
    error: str
    output: str
    body: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class DeliveryCounts:
    """How many events a connector delivered and how many are dead letters, and when it last delivered one."""

    delivered: int = 0
    dead: int = 0
    last_delivered_at: float | None = None


_COLUMNS = "id, connector, event_id, kind, job_id, state, attempts, error, output, body, created_at, updated_at"


def _record(row: tuple[object, ...]) -> DeliveryRecord:
    return DeliveryRecord(
        int(str(row[0])), str(row[1]), int(str(row[2])), str(row[3]), None if row[4] is None else str(row[4]),
        DeliveryState(str(row[5])), int(str(row[6])), str(row[7]), str(row[8]),
        None if row[9] is None else str(row[9]), float(str(row[10])), float(str(row[11])),
    )  # fmt: skip


class DeliveryRecords:
    """Reads and writes `connector_deliveries`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def settled_ids(self, connector: str, first: int, last: int) -> set[int]:
        """The ids between `first` and `last` this connector delivered or gave up on (sent before a restart)."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                "SELECT event_id FROM connector_deliveries WHERE connector = ? AND event_id BETWEEN ? AND ?",
                (connector, first, last),
            ) as cur,
        ):
            return {int(row[0]) for row in await cur.fetchall()}

    async def delivered(self, connector: str, body: EventBody, *, attempts: int, output: str) -> None:
        """Record that the receiver accepted the event (a dead letter delivered again becomes delivered)."""
        await self._put(connector, body, DeliveryState.DELIVERED, attempts=attempts, error="", output=output,
                        keep_body=False)  # fmt: skip

    async def dead(self, connector: str, body: EventBody, *, attempts: int, error: str, output: str) -> None:
        """Record that the event's attempts ran out (or it failed for good), keeping its body for a redelivery."""
        await self._put(connector, body, DeliveryState.DEAD, attempts=attempts, error=error, output=output,
                        keep_body=True)  # fmt: skip

    async def _put(
        self, connector: str, body: EventBody, state: DeliveryState, *, attempts: int, error: str, output: str,
        keep_body: bool,
    ) -> None:  # fmt: skip
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO connector_deliveries (connector, event_id, kind, job_id, state, attempts, error, output, "
                "body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (connector, event_id) DO UPDATE SET state = excluded.state, "
                "attempts = connector_deliveries.attempts + excluded.attempts, error = excluded.error, "
                "output = excluded.output, body = COALESCE(excluded.body, connector_deliveries.body), "
                "updated_at = excluded.updated_at",
                (
                    connector, body.id, body.kind, body.job_id, state.value, attempts, error, output,
                    body.to_json() if keep_body else None, now, now,
                ),
            )  # fmt: skip

    async def forget_delivered_before(self, connector: str, event_id: int) -> int:
        """Delete the connector's records of delivered events older than `event_id` (the oldest event the outbox
        still keeps: older ones can never come again, so nothing needs to know they went out); dead letters stay.
        Returns how many were deleted."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM connector_deliveries WHERE connector = ? AND state = 'delivered' AND event_id < ?",
                (connector, event_id),
            )
            return cursor.rowcount

    async def get(self, record_id: int) -> DeliveryRecord | None:
        """One record by id."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(f"SELECT {_COLUMNS} FROM connector_deliveries WHERE id = ?", (record_id,)) as cur,
        ):
            row = await cur.fetchone()
        return _record(tuple(row)) if row else None

    async def dead_letters(self, connector: str | None, *, limit: int) -> tuple[list[DeliveryRecord], int]:
        """The newest dead letters (of one connector, or all) and how many there are."""
        where, params = "state = 'dead'", []
        if connector is not None:
            where += " AND connector = ?"
            params.append(connector)
        async with self.db.committed_view() as conn:
            async with conn.execute(
                f"SELECT {_COLUMNS} FROM connector_deliveries WHERE {where} ORDER BY id DESC LIMIT ?", (*params, limit)
            ) as cur:
                rows = [_record(tuple(row)) for row in await cur.fetchall()]
            async with conn.execute(f"SELECT COUNT(*) FROM connector_deliveries WHERE {where}", params) as cur:
                total = await cur.fetchone()
        return rows, int(total[0]) if total else 0

    async def counts(self) -> dict[str, DeliveryCounts]:
        """Per connector: delivered, dead letters, the last delivery."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                "SELECT connector, SUM(state = 'delivered'), SUM(state = 'dead'), "
                "MAX(CASE WHEN state = 'delivered' THEN updated_at END) FROM connector_deliveries GROUP BY connector"
            ) as cur,
        ):
            return {
                str(row[0]): DeliveryCounts(int(row[1] or 0), int(row[2] or 0), row[3]) for row in await cur.fetchall()
            }
