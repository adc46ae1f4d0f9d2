"""Pending copies: a copy of an archive that an optional storage target did not confirm, kept with its attempts, the
last error and the time of the next try until the copy exists (then the row goes: the copy is in
`artifact_locations`) or is canceled (the job was deleted)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from archived.protocol.base import wire_time
from archived.protocol.copies import PendingCopy
from archived.protocol.states import JobState
from archived.storable_text import storable_text
from archived.store.database import Database

_COLUMNS = "id, job_id, artifact_id, target, attempts, last_error, next_try_at, created_at, updated_at"
_PREFIXED = ", ".join("p." + column.strip() for column in _COLUMNS.split(","))


@dataclass(frozen=True)
class PendingCopyRecord:
    """One row: the copy of artifact `artifact_id` on `target` that does not exist yet."""

    id: int
    job_id: str
    artifact_id: int
    target: str
    attempts: int
    last_error: str
    next_try_at: float
    created_at: float
    updated_at: float

    def to_wire(self) -> PendingCopy:
        """The protocol's view."""
        return PendingCopy(
            target=self.target,
            attempts=self.attempts,
            last_error=self.last_error,
            next_try_at=wire_time(self.next_try_at),
            since=wire_time(self.created_at),
        )


def _record(row: aiosqlite.Row) -> PendingCopyRecord:
    return PendingCopyRecord(*row)


class PendingCopyStore:
    """Reads and writes of the `pending_copies` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, *, job_id: str, artifact_id: int, target: str, attempts: int, error: str, next_try_at: float
    ) -> None:
        """Record a missed copy (a store stage that runs again after a restart records it again: one row)."""
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO pending_copies (job_id, artifact_id, target, attempts, last_error, next_try_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_id, target) DO UPDATE "
                "SET attempts = excluded.attempts, last_error = excluded.last_error, "
                "next_try_at = excluded.next_try_at, updated_at = excluded.updated_at",
                (job_id, artifact_id, target, attempts, storable_text(error), next_try_at, now, now),
            )

    async def failed_again(self, copy_id: int, *, error: str, next_try_at: float) -> None:
        """One more failed try: count it, keep its error, set the next try."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE pending_copies SET attempts = attempts + 1, last_error = ?, next_try_at = ?, updated_at = ? "
                "WHERE id = ?",
                (storable_text(error), next_try_at, time.time(), copy_id),
            )

    async def remove(self, artifact_id: int, target: str) -> bool:
        """Forget a copy that now exists, or that was canceled; whether there was one."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM pending_copies WHERE artifact_id = ? AND target = ?", (artifact_id, target)
            )
            return cursor.rowcount > 0

    async def due(self, now: float, *, limit: int = 100) -> list[PendingCopyRecord]:
        """The copies whose next try has come, the longest waiting first; only of completed jobs that are not deleted
        (a job that failed after its optional target missed a copy tries that target again when it is retried)."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                f"SELECT {_PREFIXED} FROM pending_copies p JOIN jobs j ON j.id = p.job_id WHERE p.next_try_at <= ? "
                "AND j.state = ? AND j.deleted_at IS NULL ORDER BY p.next_try_at, p.id LIMIT ?",
                (now, JobState.COMPLETED.value, limit),
            ) as cur,
        ):
            return [_record(row) for row in await cur.fetchall()]

    async def of_deleted_jobs(self) -> list[PendingCopyRecord]:
        """The copies of jobs that were deleted meanwhile (they are canceled, whenever their next try is)."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                f"SELECT {_PREFIXED} FROM pending_copies p "
                "JOIN jobs j ON j.id = p.job_id WHERE j.deleted_at IS NOT NULL ORDER BY p.id"
            ) as cur,
        ):
            return [_record(row) for row in await cur.fetchall()]

    async def of_jobs(self, job_ids: Iterable[str]) -> list[PendingCopyRecord]:
        """The pending copies of these jobs, by artifact and target."""
        ids = list(job_ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        async with self.db.connection.execute(
            f"SELECT {_COLUMNS} FROM pending_copies WHERE job_id IN ({marks}) ORDER BY artifact_id, target", ids
        ) as cur:
            return [_record(row) for row in await cur.fetchall()]

    async def of_job(self, job_id: str) -> list[PendingCopyRecord]:
        """The pending copies of one job."""
        return await self.of_jobs([job_id])

    async def job_ids(self) -> set[str]:
        """Every job that has a pending copy."""
        async with self.db.connection.execute("SELECT DISTINCT job_id FROM pending_copies") as cur:
            return {row[0] for row in await cur.fetchall()}

    async def count_by_target(self) -> dict[str, int]:
        """How many copies each target still misses."""
        async with self.db.connection.execute("SELECT target, COUNT(*) FROM pending_copies GROUP BY target") as cur:
            return {row[0]: int(row[1]) for row in await cur.fetchall()}
