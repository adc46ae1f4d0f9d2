"""Retention of job log lines: debug lines (and, if configured, info lines) are deleted once older than their
period. Warning and error lines are never swept: they are the evidence of what went wrong with a job (which
attempt, which error) and stay as long as the job's record does."""

from __future__ import annotations

import json

from archived.store.database import Database

SWEEPABLE_LEVELS = ("debug", "info")
SWEEP_CHUNK = 5000  # rows deleted per transaction: jobs never wait long for the store during a sweep


async def sweep_job_logs(db: Database, *, level: str, before: float) -> int:
    """Delete the log lines of `level` written before `before` (a Unix time); returns how many were deleted."""
    if level not in SWEEPABLE_LEVELS:
        raise ValueError(f"{level} lines are kept for the life of the job record; only {SWEEPABLE_LEVELS} are swept")
    deleted = 0
    while True:
        # Look first: a write transaction that deletes nothing would still count as the store being writable.
        async with (
            db.committed_view() as conn,
            conn.execute(
                "SELECT id FROM job_logs WHERE level = ? AND at < ? LIMIT ?", (level, before, SWEEP_CHUNK)
            ) as cur,
        ):
            ids = [int(row[0]) for row in await cur.fetchall()]
        if not ids:
            return deleted
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM job_logs WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))
        deleted += len(ids)
        if len(ids) < SWEEP_CHUNK:
            return deleted
