"""Tombstones: what remains in the store of a stored copy once it was deleted — what it was, where, its checksum,
when, why and by whom. Recording one marks the copy (and its timestamp renewals on that target) deleted and emits a
`job.deleted` event, in one transaction; the job itself is marked deleted once none of its copies is left, and the
people index forgets an archive that no longer exists anywhere (it would otherwise keep personal data for nothing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from archived.protocol.events import JobDeleted
from archived.storable_text import storable_text
from archived.store.database import Database
from archived.store.events import EventOutbox
from archived.store.records import Initiator


@dataclass(frozen=True)
class DeletedObject:
    """One object removed from a target: the archive itself or one of its timestamp renewals."""

    name: str
    location: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Tombstone:
    """The record of one deleted object."""

    id: int
    job_id: str
    artifact_id: int
    object: str
    target: str
    location: str
    size: int
    sha256: str
    retain_until: float | None
    deleted_at: float
    reason: str
    forced: bool
    by: Initiator


@dataclass(frozen=True)
class Burial:
    """What `TombstoneStore.bury` recorded: the tombstones, and whether the job has no stored copy left."""

    tombstones: list[Tombstone]
    job_emptied: bool


_COLUMNS = (
    "id, job_id, artifact_id, object, target, location, size, sha256, retain_until, deleted_at, reason, forced, by"
)


class TombstoneStore:
    """Writes and reads tombstones."""

    def __init__(self, db: Database, outbox: EventOutbox) -> None:
        self.db = db
        self.outbox = outbox

    async def bury(
        self,
        *,
        job_id: str,
        artifact_id: int,
        target: str,
        retain_until: float | None,
        objects: Sequence[DeletedObject],
        reason: str,
        by: Initiator,
        forced: bool,
    ) -> Burial:
        """Record that `objects` (an archive's copy on `target` and its renewals there) were deleted."""
        now = time.time()
        actor = json.dumps(by.to_dict())
        stones: list[Tombstone] = []
        async with self.db.transaction() as conn:
            for obj in objects:
                cursor = await conn.execute(
                    "INSERT INTO tombstones (job_id, artifact_id, object, target, location, size, sha256, "
                    "retain_until, deleted_at, reason, forced, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job_id,
                        artifact_id,
                        storable_text(obj.name),
                        target,
                        storable_text(obj.location),
                        obj.size,
                        obj.sha256,
                        retain_until,
                        now,
                        storable_text(reason),
                        int(forced),
                        actor,
                    ),
                )
                stones.append(
                    Tombstone(
                        cursor.lastrowid or 0,
                        job_id,
                        artifact_id,
                        obj.name,
                        target,
                        obj.location,
                        obj.size,
                        obj.sha256,
                        retain_until,
                        now,
                        reason,
                        forced,
                        by,
                    )
                )
            await conn.execute(
                "UPDATE artifact_locations SET deleted_at = ? WHERE artifact_id = ? AND target = ? "
                "AND deleted_at IS NULL",
                (now, artifact_id, target),
            )
            await conn.execute(
                "UPDATE renewal_copies SET deleted_at = ? WHERE target = ? AND deleted_at IS NULL AND renewal_id IN "
                "(SELECT id FROM timestamp_renewals WHERE artifact_id = ?)",
                (now, target, artifact_id),
            )
            async with conn.execute(
                "SELECT COUNT(*) FROM artifact_locations WHERE artifact_id = ? AND deleted_at IS NULL", (artifact_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and row[0] == 0:
                await conn.execute("DELETE FROM people_index WHERE artifact_id = ?", (artifact_id,))
            async with conn.execute(
                "SELECT COUNT(*) FROM artifact_locations l JOIN artifacts a ON a.id = l.artifact_id "
                "WHERE a.job_id = ? AND l.deleted_at IS NULL",
                (job_id,),
            ) as cur:
                row = await cur.fetchone()
            emptied = row is not None and row[0] == 0
            if emptied:
                await conn.execute(
                    "UPDATE jobs SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                    (now, now, job_id),
                )
                await conn.execute("DELETE FROM job_checkpoints WHERE job_id = ?", (job_id,))
                await conn.execute("DELETE FROM job_checkpoint_items WHERE job_id = ?", (job_id,))
            deleted = [f"{target}:{obj.location}" for obj in objects]
            await self.outbox.record(conn, JobDeleted(job_id=job_id, by=by.to_wire(), deleted=deleted), job_id=job_id)
        return Burial(stones, emptied)

    async def recent(
        self, *, job_id: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[Tombstone]:
        """Tombstones, newest first (of one job, or all), older than `before_id` (paging backwards)."""
        sql = f"SELECT {_COLUMNS} FROM tombstones WHERE 1 = 1"
        params: list[object] = []
        if job_id is not None:
            sql += " AND job_id = ?"
            params.append(job_id)
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        async with self.db.connection.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [
            Tombstone(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
                bool(r[11]),
                Initiator.from_dict(json.loads(r[12])),
            )
            for r in rows
        ]
