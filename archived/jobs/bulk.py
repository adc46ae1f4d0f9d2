"""Operator commands on every job a filter matches: retry, cancel or delete them in one request.

Each matching job goes through the same command as a single job (the same checks, log line and events); a job the
command does not apply to is skipped with a short reason. The operator saw a count before confirming: if the filter
now matches more jobs than that, nothing is done (`MoreMatches`), so a burst of new failures is never acted on
unseen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from archived.errors import ArchivedError
from archived.jobs.commands import JobError, ShuttingDown
from archived.protocol.jobs import JobFilter
from archived.protocol.states import RETRYABLE_STATES, JobState
from archived.store.database import StoreUnwritable
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord

# Jobs acted on at once: a cancel waits for its runner to stop, so one at a time would be slow for hundreds.
CONCURRENCY = 8


class MoreMatches(JobError):
    """The filter matches more jobs than the operator was shown; nothing was done."""

    code = "more_matches"

    def __init__(self, *, matched: int, expected: int) -> None:
        super().__init__(
            f"the filter now matches {matched} jobs, more than the {expected} you were shown; nothing was done. "
            "Look at the list again and confirm the new count."
        )
        self.matched = matched
        self.expected = expected


class SingleJobCommands(Protocol):
    """The one-job commands a bulk action repeats (the engine)."""

    async def get_job(self, job_id: str) -> JobRecord: ...

    async def cancel(self, job_id: str, *, by: Initiator) -> JobRecord: ...

    async def retry(self, job_id: str, *, by: Initiator) -> JobRecord: ...

    async def delete(self, job_id: str, *, by: Initiator, force: bool = False) -> tuple[JobRecord, list[str]]: ...


@dataclass
class BulkOutcome:
    """What a bulk action did: how many jobs matched, those acted on, those skipped by reason."""

    matched: int
    acted: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    deleted_copies: int = 0

    def skip(self, job_id: str, reason: str) -> None:
        """Leave a job alone, saying why."""
        self.skipped.setdefault(reason, []).append(job_id)


class BulkCommands:
    """Retry, cancel or delete every job a filter matches."""

    def __init__(self, *, commands: SingleJobCommands, store: JobStore) -> None:
        self.commands = commands
        self.store = store

    async def retry_matching(self, criteria: JobFilter, *, expected: int, by: Initiator) -> BulkOutcome:
        """Queue every matching failed, canceled or timed-out job again."""

        async def retry(job: JobRecord, outcome: BulkOutcome) -> None:
            if job.deleted_at is not None:
                return outcome.skip(job.id, "deleted")
            if job.state not in RETRYABLE_STATES:
                return outcome.skip(job.id, f"not failed, canceled or timed out ({job.state.value})")
            await self.commands.retry(job.id, by=by)
            outcome.acted.append(job.id)

        return await self._each(criteria, expected, retry)

    async def cancel_matching(self, criteria: JobFilter, *, expected: int, by: Initiator) -> BulkOutcome:
        """Cancel every matching job that has not ended."""

        async def cancel(job: JobRecord, outcome: BulkOutcome) -> None:
            if job.state.is_terminal:
                return outcome.skip(job.id, f"already ended ({job.state.value})")
            if job.state is JobState.CLEANUP:
                return outcome.skip(job.id, "already cleaning up")
            await self.commands.cancel(job.id, by=by)
            outcome.acted.append(job.id)

        return await self._each(criteria, expected, cancel)

    async def delete_matching(
        self, criteria: JobFilter, *, expected: int, by: Initiator, force: bool = False
    ) -> BulkOutcome:
        """Delete the stored archives of every matching job that ended; archives under retention only with
        `force`."""

        async def delete(job: JobRecord, outcome: BulkOutcome) -> None:
            if job.deleted_at is not None:
                return outcome.skip(job.id, "already deleted")
            if not job.state.is_terminal:
                return outcome.skip(job.id, f"not ended ({job.state.value}); cancel it first")
            if not force:
                until = await self._retained_until(job.id)
                if until is not None:
                    day = datetime.fromtimestamp(until, UTC).date().isoformat()
                    return outcome.skip(job.id, f"retained until {day} (needs force)")
            _, deleted = await self.commands.delete(job.id, by=by, force=force)
            outcome.acted.append(job.id)
            outcome.deleted_copies += len(deleted)

        return await self._each(criteria, expected, delete)

    async def _retained_until(self, job_id: str) -> float | None:
        """The latest end of retention among a job's stored archives, if one is still retained."""
        now = time.time()
        ends = [
            a.retain_until
            for a in await self.store.artifacts(job_id)
            if a.retain_until and a.retain_until > now and any(loc.deleted_at is None for loc in a.locations)
        ]
        return max(ends) if ends else None

    async def _each(
        self,
        criteria: JobFilter,
        expected: int,
        act: Callable[[JobRecord, BulkOutcome], Awaitable[None]],
    ) -> BulkOutcome:
        """Run `act` on every matching job (refused if they are more than `expected`). A job the command refuses
        (it moved since it was matched, its storage target cannot delete) is skipped with the command's reason; a
        shutdown or a store that cannot be written ends the whole action."""
        job_ids = await self.store.ids_matching(criteria)
        if len(job_ids) > expected:
            raise MoreMatches(matched=len(job_ids), expected=expected)
        outcome = BulkOutcome(matched=len(job_ids))
        slots = asyncio.Semaphore(CONCURRENCY)
        # Not cancelled midway (a retry cut between its transition and its runner would strand the job): once the
        # daemon drains or the store cannot be written, the jobs not started yet are left alone.
        stopped: list[ArchivedError] = []

        async def one(job_id: str) -> None:
            async with slots:
                if stopped:
                    return
                try:
                    await act(await self.commands.get_job(job_id), outcome)
                except (ShuttingDown, StoreUnwritable) as exc:
                    stopped.append(exc)
                except ArchivedError as exc:
                    outcome.skip(job_id, str(exc))

        await asyncio.gather(*(one(job_id) for job_id in job_ids))
        if stopped:
            raise stopped[0]
        order = {job_id: position for position, job_id in enumerate(job_ids)}  # oldest first, as matched
        outcome.acted.sort(key=order.__getitem__)
        for skipped in outcome.skipped.values():
            skipped.sort(key=order.__getitem__)
        return outcome
