"""`archives.retimestamp`: renew the timestamps of stored archives (operator only)."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.protocol.base import wire_time
from archived.protocol.methods import ARCHIVES_RETIMESTAMP
from archived.protocol.renewal import RenewedArchive, RetimestampParams, RetimestampResult
from archived.retention.evidence import EvidenceRenewal, RenewalOutcome
from archived.rpc.method import Method, method


class JobResolver(Protocol):
    """Finds a job's full id from an id or a unique prefix (the engine)."""

    async def resolve_job_id(self, ident: str) -> str: ...


async def archives_retimestamp(
    params: RetimestampParams, *, renewal: EvidenceRenewal, jobs: JobResolver
) -> RetimestampResult:
    """Renew every matching archive's timestamp."""
    job_id = await jobs.resolve_job_id(params.job_id) if params.job_id else None
    before = params.before.timestamp() if params.before else None
    done = await renewal.renew(before=before, job_id=job_id, dry_run=params.dry_run)
    return RetimestampResult(
        archives=[
            RenewedArchive(
                job_id=r.job_id,
                archive=r.archive,
                outcome=r.outcome.value,
                number=r.number,
                gen_time=wire_time(r.gen_time),
                authority=r.authority,
                holds_until=wire_time(r.holds_until),
                stored=r.stored,
                detail=r.detail,
            )
            for r in done
        ],
        renewed=sum(r.outcome is RenewalOutcome.RENEWED for r in done),
        failed=sum(r.outcome is RenewalOutcome.FAILED for r in done),
    )


def renewal_methods(*, renewal: EvidenceRenewal, jobs: JobResolver) -> list[Method[Any, Any]]:
    """`archives.retimestamp`, bound to the renewal service and the job lookup."""
    return [method(ARCHIVES_RETIMESTAMP, partial(archives_retimestamp, renewal=renewal, jobs=jobs))]
