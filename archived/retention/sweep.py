"""Deleting stored archives whose retention is over: from every target that holds a copy, together with the copy's
timestamp renewals there, each deletion recorded as tombstones (what, where, checksums, when, why, by whom) with a
`job.deleted` event and a line in the job's log.

A WORM lock that still holds is reported and the copy kept (never fought: no bypass is asked for); a target that
cannot be reached keeps its copy until the next sweep. Deleting before the retain-until date needs `force`, is
refused by WORM targets all the same, and is written to the audit trail.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from archived.errors import ArchivedError, FatalError
from archived.interfaces.storage import RetentionLocked
from archived.store.audit import AuditLog
from archived.store.database import Database
from archived.store.events import EventOutbox
from archived.store.holdings import HeldArchive, HeldCopy, held_archives
from archived.store.records import Initiator
from archived.store.renewals import RenewalStore
from archived.store.tombstones import DeletedObject, TombstoneStore
from archived.targets import StorageTarget

log = logging.getLogger("archived.retention")

EXPIRED = "retention period over"


class RetentionNotOver(FatalError):
    """An archive is still inside its retention period and deleting it was not forced."""

    code = "invalid_state"


class JobLog(Protocol):
    """Where a line for a job's log goes (the job store)."""

    async def add_log(self, job_id: str, level: str, message: str) -> object: ...


class CopyOutcome(StrEnum):
    """What became of one stored copy."""

    DELETED = "deleted"
    WOULD_DELETE = "would_delete"  # a dry run
    LOCKED = "locked"  # a WORM lock still holds: kept, reported
    FAILED = "failed"  # the target could not be reached or refused otherwise: kept, tried again at the next sweep


@dataclass(frozen=True)
class CopyResult:
    """One copy of an archive and what the sweep did with it."""

    job_id: str
    archive: str
    target: str
    location: str
    retain_until: float | None
    outcome: CopyOutcome
    detail: str = ""
    objects: int = 0  # objects deleted: the archive and its renewals on that target


@dataclass
class RetentionRun:
    """The outcome of one sweep (or one early deletion)."""

    at: float
    dry_run: bool
    copies: list[CopyResult] = field(default_factory=list)

    def count(self, outcome: CopyOutcome) -> int:
        """How many copies ended with `outcome`."""
        return sum(1 for copy in self.copies if copy.outcome is outcome)


class ArchiveRetention:
    """Deletes archives whose retention is over, and archives an operator removes early."""

    def __init__(
        self, *, db: Database, outbox: EventOutbox, targets: Mapping[str, StorageTarget], job_log: JobLog
    ) -> None:
        self.db = db
        self.targets = targets
        self.job_log = job_log
        self.tombstones = TombstoneStore(db, outbox)
        self.renewals = RenewalStore(db)
        self.audit = AuditLog(db)
        self._lock = asyncio.Lock()  # the hourly sweep and an operator's run must not delete the same copy twice

    async def sweep(self, *, by: Initiator, now: float | None = None, dry_run: bool = False) -> RetentionRun:
        """Delete every copy of every archive whose retain-until date is before `now`."""
        async with self._lock:
            now = time.time() if now is None else now
            run = RetentionRun(now, dry_run)
            expired = await held_archives(self.db, expired_before=now)
            log.debug("retention sweep: %d archive(s) past their retain-until date", len(expired))
            for held in expired:
                run.copies += await self._delete(held, reason=EXPIRED, by=by, forced=False, dry_run=dry_run)
        if run.copies and not dry_run:
            log.info(
                "retention: %d expired archive cop(ies) deleted, %d kept by a WORM lock, %d failed (tried again later)",
                run.count(CopyOutcome.DELETED), run.count(CopyOutcome.LOCKED), run.count(CopyOutcome.FAILED),
            )  # fmt: skip
        return run

    async def delete_job(
        self, job_id: str, *, by: Initiator, force: bool, reason: str, dry_run: bool = False
    ) -> RetentionRun:
        """Delete an ended job's archives from every target; before their retain-until date only with `force`
        (audited whether it was done or refused)."""
        async with self._lock:
            return await self._delete_job(job_id, by=by, force=force, reason=reason, dry_run=dry_run)

    async def delete_with_job(self, job_id: str, *, by: Initiator, reason: str) -> tuple[list[str], list[str]]:
        """For `archived jobs delete`, which checked the retain-until date and `force` itself: every copy of the job's
        archives deleted as retention deletes them (an archive still inside its retention audited as an early
        deletion); returns the copies deleted ("target:location") and those kept ("target: why")."""
        async with self._lock:
            if not await held_archives(self.db, job_id=job_id):
                return [], []
            run = await self._delete_job(job_id, by=by, force=True, reason=reason, dry_run=False)
        deleted = [f"{c.target}:{c.location}" for c in run.copies if c.outcome is CopyOutcome.DELETED]
        kept = [f"{c.target}: {c.detail}" for c in run.copies if c.outcome is not CopyOutcome.DELETED]
        return deleted, kept

    async def _delete_job(self, job_id: str, *, by: Initiator, force: bool, reason: str, dry_run: bool) -> RetentionRun:
        now = time.time()
        run = RetentionRun(now, dry_run)
        archives = await held_archives(self.db, job_id=job_id)
        if not archives:
            raise ArchivedError(f"job {job_id} has no stored archive (it is still running, or was deleted)",
                                code="not_found")  # fmt: skip
        early = [a for a in archives if a.retain_until is None or a.retain_until > now]
        why = reason.strip() or "deleted by an operator"
        if early and not force:
            until = _day(early[0].retain_until)
            refusal = (
                f"job {job_id}'s archive {early[0].name} is retained until {until}; deleting it earlier needs force "
                "(archived retention delete JOB --force --reason …)"
            )
            if not dry_run:
                await self.audit.record(by, "retention.delete_early", f"job {job_id}: {early[0].name}",
                                        outcome=f"refused: {refusal}", details={"reason": why})  # fmt: skip
            raise RetentionNotOver(refusal)
        for held in archives:
            forced = held in early
            label = f"deleted before its retain-until date ({_day(held.retain_until)}): {why}" if forced else EXPIRED
            results = await self._delete(held, reason=label, by=by, forced=forced, dry_run=dry_run)
            run.copies += results
            if forced and not dry_run:
                outcome = ", ".join(f"{r.target}: {r.outcome.value}" + (f" ({r.detail})" if r.detail else "")
                                    for r in results)  # fmt: skip
                await self.audit.record(
                    by, "retention.delete_early", f"job {held.job_id}: {held.name}",
                    outcome="ok" if all(r.outcome is CopyOutcome.DELETED for r in results) else f"partly: {outcome}",
                    details={"reason": why, "retain_until": held.retain_until, "copies": outcome},
                )  # fmt: skip
        return run

    async def _delete(
        self, held: HeldArchive, *, reason: str, by: Initiator, forced: bool, dry_run: bool
    ) -> list[CopyResult]:
        results = []
        for copy in held.copies:
            result = await self._delete_copy(held, copy, reason=reason, by=by, forced=forced, dry_run=dry_run)
            results.append(result)
            if dry_run:
                continue
            if result.outcome is CopyOutcome.DELETED:
                await self.job_log.add_log(
                    held.job_id, "warning" if forced else "info",
                    f"retention: deleted {held.name} from storage target {copy.target} ({copy.location}) and "
                    f"{result.objects - 1} timestamp renewal file(s) there; why: {reason}; by {by}"
                    + (f"; {result.detail}" if result.detail else ""),
                )  # fmt: skip
            elif by.kind != "schedule":  # the hourly sweep says it in the daemon's log, not hourly in the job's
                await self.job_log.add_log(
                    held.job_id, "warning",
                    f"retention: kept {held.name} on storage target {copy.target}: {result.detail}",
                )  # fmt: skip
            else:
                log.warning("retention: %s kept on storage target %s: %s", held.label, copy.target, result.detail)
        return results

    async def _delete_copy(
        self, held: HeldArchive, copy: HeldCopy, *, reason: str, by: Initiator, forced: bool, dry_run: bool
    ) -> CopyResult:
        def result(outcome: CopyOutcome, detail: str = "", objects: int = 0) -> CopyResult:
            return CopyResult(held.job_id, held.name, copy.target, copy.location, held.retain_until, outcome, detail,
                              objects)  # fmt: skip

        target = self.targets.get(copy.target)
        if target is None:
            return result(CopyOutcome.FAILED, f"storage target {copy.target} is no longer configured; add it back "
                                              "to [storage] so that the copy can be deleted")  # fmt: skip
        renewals = [
            (link, renewal)
            for link in await self.renewals.chain(held.artifact_id)
            for renewal in link.copies
            if renewal.target == copy.target and renewal.deleted_at is None
        ]
        if dry_run:
            return result(CopyOutcome.WOULD_DELETE, objects=1 + 2 * len(renewals))
        # The archive first: while a WORM lock holds it, nothing of it goes (its renewals are evidence for it).
        try:
            await target.driver.delete(copy.location)
        except RetentionLocked as exc:
            return result(CopyOutcome.LOCKED, f"a WORM retention lock still holds, the copy is kept: {exc}")
        except ArchivedError as exc:
            return result(CopyOutcome.FAILED, f"deleting it failed, it is tried again at the next sweep: {exc}")
        objects = [DeletedObject(held.name, copy.location, copy.size, copy.sha256)]
        left: list[str] = []
        for link, renewal in renewals:
            for location, content in ((renewal.reply_location, link.reply), (renewal.chain_location, link.chain)):
                try:
                    await target.driver.delete(location)
                except ArchivedError as exc:
                    left.append(f"{location} ({exc})")
                    continue
                objects.append(DeletedObject(location.rsplit("/", 1)[-1], location, len(content),
                                             hashlib.sha256(content).hexdigest()))  # fmt: skip
        await self.tombstones.bury(
            job_id=held.job_id, artifact_id=held.artifact_id, target=copy.target, retain_until=held.retain_until,
            objects=objects, reason=reason, by=by, forced=forced,
        )  # fmt: skip
        detail = f"timestamp renewal file(s) left on the target, delete them by hand: {'; '.join(left)}" if left else ""
        return result(CopyOutcome.DELETED, detail, len(objects))


def _day(moment: float | None) -> str:
    return datetime.fromtimestamp(moment, UTC).date().isoformat() if moment is not None else "forever"
