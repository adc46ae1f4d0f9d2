"""Finished attempts recorded in the job's store as checkpoint items, a few seconds' worth per transaction.

One transaction per attempt would make a big quiz's store busy for nothing; one per job would lose everything
on a crash. Every `CHECKPOINT_SECONDS` (and after the last attempt) the attempts finished since the last write
go in one transaction: a crash loses at most those seconds' work. Finished records live in the store, not in
memory: kept, thousands of them would stay alive between the parsing garbage of every attempt and pin the
memory around them. When the job fails, what did finish is recorded too, so that a retry does not do it again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from archived.interfaces.activity import ArchiveContext
from archived_quiz.attempt_record import AttemptRecord

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 2.0


async def load_records(ctx: ArchiveContext) -> dict[int, AttemptRecord]:
    """The attempts recorded as finished by earlier runs (and this one), by attempt id; unreadable items skipped."""
    records: dict[int, AttemptRecord] = {}
    for key, item in (await ctx.load_checkpoint_items()).items():
        record = AttemptRecord.from_item(item) if isinstance(item, dict) else None
        if record is not None and str(record.attemptid) == key:
            records[record.attemptid] = record
    return records


class CheckpointBatcher:
    """Counts finished attempts, reports progress, and records them in batches (see the module docstring)."""

    def __init__(self, ctx: ArchiveContext, total: int) -> None:
        self.ctx = ctx
        self.total = total
        self.finished = 0
        self._unrecorded: dict[str, AttemptRecord] = {}  # finished since the last write
        self._last_write = time.monotonic()
        # Counting, writing and reporting in one order: progress never goes back, batches never interleave.
        self._lock = asyncio.Lock()

    async def add(self, record: AttemptRecord) -> None:
        """One more attempt finished: record it (now, or with the next batch) and report progress."""
        async with self._lock:
            self.finished += 1
            self._unrecorded[str(record.attemptid)] = record
            if time.monotonic() - self._last_write >= CHECKPOINT_SECONDS or self.finished == self.total:
                await self._write()
            await self.ctx.progress(
                100.0 * self.finished / max(1, self.total), f"rendered attempt {self.finished}/{self.total}"
            )

    async def save_after_failure(self) -> None:
        """Record what finished before the job failed; a store error here is logged, never raised over the job's."""
        try:
            await self._write()
        except Exception as exc:
            # The job's own failure is what the operator must see; a retry just renders these again.
            log.warning("job %s: finished attempts not recorded for the retry: %s", self.ctx.job_id, exc)

    async def _write(self) -> None:
        batch = {key: record.to_item() for key, record in self._unrecorded.items()}
        self._unrecorded.clear()
        await self.ctx.save_checkpoint_items(batch)
        self._last_write = time.monotonic()
