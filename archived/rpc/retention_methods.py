"""The `retention.*` methods: run the retention sweep, delete a job's archives early (forced, audited), read the
tombstones."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.protocol.base import wire_time
from archived.protocol.methods import RETENTION_DELETE, RETENTION_RUN, RETENTION_TOMBSTONES
from archived.protocol.retention import (
    CopyDeletion,
    RetentionDeleteParams,
    RetentionResult,
    RetentionRunParams,
    TombstonePage,
    TombstonesParams,
    TombstoneView,
)
from archived.retention.sweep import ArchiveRetention, CopyOutcome, RetentionRun
from archived.rpc.method import Method, method, method_by_initiator
from archived.store.records import Initiator


class JobResolver(Protocol):
    """Finds a job's full id from an id or a unique prefix (the engine)."""

    async def resolve_job_id(self, ident: str) -> str: ...


def retention_result(run: RetentionRun) -> RetentionResult:
    """The protocol's view of a sweep."""
    return RetentionResult(
        at=wire_time(run.at),
        dry_run=run.dry_run,
        copies=[
            CopyDeletion(
                job_id=c.job_id,
                archive=c.archive,
                target=c.target,
                location=c.location,
                retain_until=wire_time(c.retain_until),
                outcome=c.outcome.value,
                detail=c.detail,
                objects=c.objects,
            )
            for c in run.copies
        ],
        deleted=run.count(CopyOutcome.DELETED),
        locked=run.count(CopyOutcome.LOCKED),
        failed=run.count(CopyOutcome.FAILED),
    )


async def retention_run(
    params: RetentionRunParams, initiator: Initiator, *, retention: ArchiveRetention
) -> RetentionResult:
    """Delete every archive whose retain-until date has passed."""
    return retention_result(await retention.sweep(by=initiator, dry_run=params.dry_run))


async def retention_delete(
    params: RetentionDeleteParams, initiator: Initiator, *, retention: ArchiveRetention, jobs: JobResolver
) -> RetentionResult:
    """Delete one job's archives from every target."""
    job_id = await jobs.resolve_job_id(params.job_id)
    run = await retention.delete_job(
        job_id, by=initiator, force=params.force, reason=params.reason, dry_run=params.dry_run
    )
    return retention_result(run)


async def retention_tombstones(params: TombstonesParams, *, retention: ArchiveRetention) -> TombstonePage:
    """A page of tombstones, newest first."""
    stones = await retention.tombstones.recent(job_id=params.job_id, limit=params.limit, before_id=params.before_id)
    return TombstonePage(
        tombstones=[
            TombstoneView(
                id=t.id,
                job_id=t.job_id,
                object=t.object,
                target=t.target,
                location=t.location,
                size=t.size,
                sha256=t.sha256,
                retain_until=wire_time(t.retain_until),
                deleted_at=wire_time(t.deleted_at),
                reason=t.reason,
                forced=t.forced,
                by=t.by.to_wire(),
            )
            for t in stones
        ],
        next_before_id=stones[-1].id if len(stones) == params.limit else None,
    )


def retention_methods(*, retention: ArchiveRetention, jobs: JobResolver) -> list[Method[Any, Any]]:
    """The retention methods, bound to the daemon's retention service and job lookup."""
    return [
        method_by_initiator(RETENTION_RUN, partial(retention_run, retention=retention)),
        method_by_initiator(RETENTION_DELETE, partial(retention_delete, retention=retention, jobs=jobs)),
        method(RETENTION_TOMBSTONES, partial(retention_tombstones, retention=retention)),
    ]
