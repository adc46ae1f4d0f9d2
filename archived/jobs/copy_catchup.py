"""Catching up on pending copies: the copies optional storage targets missed, retried in the background (from the
daemon's housekeeping) with the backoff of `[retry]` and no limit on tries, until they exist; a copy of a job that
was deleted meanwhile is canceled.

The bytes come from the spool (`archived.jobs.copy_spool`: the job's built ZIP, kept until every copy exists); when
the spooled file is gone or damaged, from a target that holds a verified copy (`archived.jobs.archive_retrieval`).
Every try emits `storage.write.created` and then `storage.write.completed` or `storage.write.failed`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archived.config import RetryConfig
from archived.durable import sha256_of_file
from archived.errors import ArchivedError, disk_error
from archived.interfaces.activity import LogLevel
from archived.jobs.archive_retrieval import retrieve_verified
from archived.jobs.copy_spool import CopySpool
from archived.jobs.copy_writer import write_copy
from archived.jobs.recorder import JobRecorder
from archived.protocol.events import StorageWriteCreated, StorageWriteFailed
from archived.store.jobs import JobStore
from archived.store.pending_copies import PendingCopyRecord, PendingCopyStore
from archived.store.records import Artifact
from archived.store.state_chart import backoff_delay
from archived.targets import StorageTarget

log = logging.getLogger("archived.copies")


@dataclass(frozen=True)
class CatchUpReport:
    """What one sweep did."""

    copied: int = 0
    failed: int = 0
    canceled: int = 0


class CopyCatchUp:
    """Records missed copies (for the store stage) and makes them later (for the housekeeping)."""

    def __init__(
        self,
        *,
        store: JobStore,
        targets: dict[str, StorageTarget],
        recorder: JobRecorder,
        retry: RetryConfig,
        spool: CopySpool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.pending = PendingCopyStore(store.db)
        self.targets = targets
        self.recorder = recorder
        self.retry = retry
        self.spool = spool
        self._clock = clock

    def next_try(self, attempts: int, now: float) -> float:
        """When a copy that failed `attempts` times is tried again."""
        return now + backoff_delay(
            attempts, base=self.retry.backoff_base_seconds, maximum=self.retry.backoff_max_seconds
        )

    async def missed(self, *, job_id: str, artifact_id: int, name: str, source: Path, target: str, error: str) -> float:
        """The store stage could not write to optional `target`: keep the ZIP and record the copy; returns when it
        is tried again."""
        await asyncio.to_thread(self.spool.keep, job_id, name, source)
        now = self._clock()
        next_try_at = self.next_try(1, now)
        await self.pending.record(
            job_id=job_id, artifact_id=artifact_id, target=target, attempts=1, error=error, next_try_at=next_try_at
        )
        return next_try_at

    async def made(self, job_id: str, artifact_id: int, target: str) -> None:
        """A copy exists now (the store stage made it on a retry): forget it, and the spool once nothing is missing."""
        if await self.pending.remove(artifact_id, target):
            await self._release_if_done(job_id)

    async def sweep(self, now: float | None = None) -> CatchUpReport:
        """Cancel the copies of deleted jobs, then try every copy that is due at `now` once."""
        now = self._clock() if now is None else now
        canceled = 0
        for record in await self.pending.of_deleted_jobs():
            await self._cancel(record, "the job was deleted")
            canceled += 1
        copied = failed = 0
        for record in await self.pending.due(now):
            artifact = next((a for a in await self.store.artifacts(record.job_id) if a.id == record.artifact_id), None)
            # The foreign key keeps an artifact for every row; never retry a copy of nothing all the same.
            reason = "its archive is not recorded" if artifact is None else _no_longer_wanted(artifact, now)
            if artifact is None or reason is not None:
                await self._cancel(record, reason or "")
                canceled += 1
            elif await self._try(record, artifact, now):
                copied += 1
            else:
                failed += 1
        await asyncio.to_thread(self.spool.sweep, await self.pending.job_ids(), now=now)
        return CatchUpReport(copied, failed, canceled)

    async def _cancel(self, record: PendingCopyRecord, reason: str) -> None:
        await self.pending.remove(record.artifact_id, record.target)
        await self.recorder.log(record.job_id, LogLevel.INFO, f"pending copy on {record.target} canceled: {reason}")
        await self._release_if_done(record.job_id)

    async def _try(self, record: PendingCopyRecord, artifact: Artifact, now: float) -> bool:
        if any(loc.target == record.target and loc.deleted_at is None for loc in artifact.locations):
            await self.made(record.job_id, artifact.id, record.target)  # made meanwhile (a store stage that ran again)
            return True
        target = self.targets.get(record.target)
        created = StorageWriteCreated(target=record.target, name=artifact.name, size=artifact.size,
                                      sha256=artifact.sha256)  # fmt: skip
        await self.store.outbox.append(created, job_id=record.job_id)
        try:
            if target is None:
                raise ArchivedError(f"target {record.target} is no longer configured ([storage.{record.target}])")
            source = await self._source(artifact, record)
            retain_until = datetime.fromtimestamp(artifact.retain_until, UTC) if artifact.retain_until else None
            location = await write_copy(
                target, source, artifact.name, sha256=artifact.sha256, size=artifact.size, retain_until=retain_until,
                job_id=record.job_id, recorder=self.recorder,
            )  # fmt: skip
        except (ArchivedError, OSError) as exc:
            await self._failed(record, artifact, exc, now)
            return False
        except Exception as exc:  # a driver's bug: this copy waits its backoff, the other copies still get their turn
            log.exception("copy of %s on %s failed unexpectedly", artifact.name, record.target)
            await self._failed(record, artifact, ArchivedError(f"{type(exc).__name__}: {exc}"), now)
            return False
        await self.store.add_location(artifact.id, location, job_id=record.job_id, settles_pending=True)
        await self.recorder.log(
            record.job_id, LogLevel.INFO,
            f"stored on {record.target} as {location.location} (verified), try {record.attempts + 1}",
        )  # fmt: skip
        await self._release_if_done(record.job_id)
        return True

    async def _source(self, artifact: Artifact, record: PendingCopyRecord) -> Path:
        """The spooled ZIP if it is intact, else a verified copy fetched from another target into the spool."""
        path = self.spool.path(record.job_id, artifact.name)
        if path.is_file():
            size, sha256 = await asyncio.to_thread(sha256_of_file, path)
            if (size, sha256) == (artifact.size, artifact.sha256):
                return path
            damaged = f"the kept copy of {artifact.name} is damaged; fetching one from storage"
            await self.recorder.log(record.job_id, LogLevel.WARNING, damaged)
        retrieved = await retrieve_verified(artifact, self.targets, path.parent, skip=record.target)
        return await asyncio.to_thread(self.spool.keep, record.job_id, artifact.name, retrieved.path)

    async def _failed(self, record: PendingCopyRecord, artifact: Artifact, exc: Exception, now: float) -> None:
        if not isinstance(exc, ArchivedError):
            exc = disk_error(exc, str(self.spool.root)) or ArchivedError(str(exc))
        message = self.recorder.redact(str(exc))
        attempts = record.attempts + 1
        next_try_at = self.next_try(attempts, now)
        await self.pending.failed_again(record.id, error=message, next_try_at=next_try_at)
        failed = StorageWriteFailed(target=record.target, name=artifact.name, required=False, error_code=exc.code,
                                    error_message=message)  # fmt: skip
        await self.store.outbox.append(failed, job_id=record.job_id)
        wait = max(0.0, next_try_at - now)
        await self.recorder.log(
            record.job_id, LogLevel.WARNING,
            f"copy on optional target {record.target} failed (try {attempts}), next try in {wait:.0f} s: {message}",
        )  # fmt: skip

    async def _release_if_done(self, job_id: str) -> None:
        if not await self.pending.of_job(job_id):
            await asyncio.to_thread(self.spool.release, job_id)


def _no_longer_wanted(artifact: Artifact, now: float) -> str | None:
    """Why a pending copy must not be made any more: its archive's retention is over, or every stored copy of it was
    deleted on purpose (the retention sweep, an early deletion); None while it is still wanted."""
    if artifact.retain_until is not None and artifact.retain_until <= now:
        return "the archive's retention is over"
    if artifact.locations and all(loc.deleted_at is not None for loc in artifact.locations):
        return "every stored copy of the archive was deleted"
    return None
