"""The `jobs.*` methods: create, list, show, page through logs, cancel, retry and delete archive jobs."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.errors import ArchivedError
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.jobs import (
    CreateJobParams,
    CreateJobResult,
    DeleteParams,
    DeleteResult,
    JobPage,
    JobRef,
    JobResult,
    JobView,
    ListJobsParams,
    LogPage,
    LogsParams,
)
from archived.protocol.methods import (
    JOBS_CANCEL,
    JOBS_CREATE,
    JOBS_DELETE,
    JOBS_GET,
    JOBS_LIST,
    JOBS_LOGS,
    JOBS_RETRY,
)
from archived.rpc.method import Method, method, method_by_initiator
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord


class JobLookup(Protocol):
    """Finds jobs by id or unique prefix (the engine)."""

    async def resolve_job_id(self, ident: str) -> str: ...

    async def get_job(self, job_id: str) -> JobRecord: ...


class JobCommands(JobLookup, Protocol):
    """What an operator may ask of the engine."""

    async def create_job(
        self,
        *,
        driver: str,
        course_id: int,
        cmid: int,
        requested: dict[str, Any],
        initiator: Initiator,
        course_name: str = "",
        activity_name: str = "",
    ) -> tuple[JobRecord, list[str]]: ...

    async def cancel(self, job_id: str, *, by: Initiator) -> JobRecord: ...

    async def retry(self, job_id: str, *, by: Initiator) -> JobRecord: ...

    async def delete(self, job_id: str, *, by: Initiator, force: bool = False) -> tuple[JobRecord, list[str]]: ...


class FoundActivity(Protocol):
    """An activity as the course overview knows it."""

    @property
    def driver(self) -> str: ...

    @property
    def course_name(self) -> str: ...

    @property
    def name(self) -> str: ...


class ActivityLookup(Protocol):
    """Finds an activity's driver and names in Moodle (the course overview, when Moodle is configured)."""

    async def find_activity(self, course_id: int, cmid: int) -> FoundActivity: ...


async def jobs_create(
    params: CreateJobParams, initiator: Initiator, *, commands: JobCommands, activities: ActivityLookup | None
) -> CreateJobResult:
    """Queue a job; without an explicit driver, the activity's type in Moodle chooses it."""
    driver = params.driver
    course_name = activity_name = ""
    if activities is not None:
        try:
            activity = await activities.find_activity(params.course_id, params.cmid)
        except ArchivedError:
            if driver is None:
                raise
        else:  # the names show in job lists at once; an explicit driver still wins
            driver = driver or activity.driver
            course_name, activity_name = activity.course_name, activity.name
    if driver is None:
        raise RpcError(ErrorCode.INVALID_PARAMS, "driver is required (no Moodle is configured to look the activity up)")
    job, forced = await commands.create_job(
        driver=driver,
        course_id=params.course_id,
        cmid=params.cmid,
        requested=params.settings,
        initiator=initiator,
        course_name=course_name,
        activity_name=activity_name,
    )
    return CreateJobResult(job=job.to_summary(), forced=forced)


async def jobs_list(params: ListJobsParams, *, store: JobStore) -> JobPage:
    """A page of jobs, newest first, with the number of all that match."""
    jobs, total = await store.list_jobs(
        states=params.states,
        cmid=params.cmid,
        include_deleted=params.include_deleted,
        limit=params.limit,
        offset=params.offset,
    )
    # One validation of the whole page (in pydantic's core) rather than a model per job.
    return JobPage.model_validate(
        {"jobs": [job.summary_fields() for job in jobs], "total": total, "offset": params.offset}
    )


async def jobs_get(params: JobRef, *, jobs: JobLookup, store: JobStore) -> JobView:
    """One job with its timeline and artifacts."""
    job_id = await jobs.resolve_job_id(params.job_id)
    job = await jobs.get_job(job_id)
    timeline = await store.timeline(job_id)
    artifacts = await store.artifacts(job_id)
    return JobView(
        job=job.to_detail(),
        timeline=[step.to_wire() for step in timeline],
        artifacts=[artifact.to_wire() for artifact in artifacts],
    )


async def jobs_logs(params: LogsParams, *, jobs: JobLookup, store: JobStore) -> LogPage:
    """A page of a job's log, newest first, older than `before_id`."""
    job_id = await jobs.resolve_job_id(params.job_id)
    entries = await store.logs(job_id, before_id=params.before_id, limit=params.limit, min_level=params.min_level)
    return LogPage(
        job_id=job_id,
        entries=[entry.to_wire() for entry in entries],
        next_before_id=entries[-1].id if len(entries) == params.limit else None,
    )


async def jobs_cancel(params: JobRef, initiator: Initiator, *, commands: JobCommands) -> JobResult:
    """Cancel a job that has not ended."""
    job = await commands.cancel(await commands.resolve_job_id(params.job_id), by=initiator)
    return JobResult(job=job.to_summary())


async def jobs_retry(params: JobRef, initiator: Initiator, *, commands: JobCommands) -> JobResult:
    """Queue a failed, canceled or timed-out job again."""
    job = await commands.retry(await commands.resolve_job_id(params.job_id), by=initiator)
    return JobResult(job=job.to_summary())


async def jobs_delete(params: DeleteParams, initiator: Initiator, *, commands: JobCommands) -> DeleteResult:
    """Delete an ended job's stored archives; the job record stays as evidence."""
    job, deleted = await commands.delete(await commands.resolve_job_id(params.job_id), by=initiator, force=params.force)
    return DeleteResult(job=job.to_summary(), deleted=deleted)


def job_methods(*, commands: JobCommands, store: JobStore, activities: ActivityLookup | None) -> list[Method[Any, Any]]:
    """The `jobs.*` methods, bound to the engine, the store and (with Moodle) the course overview."""
    return [
        method_by_initiator(JOBS_CREATE, partial(jobs_create, commands=commands, activities=activities)),
        method(JOBS_LIST, partial(jobs_list, store=store)),
        method(JOBS_GET, partial(jobs_get, jobs=commands, store=store)),
        method(JOBS_LOGS, partial(jobs_logs, jobs=commands, store=store)),
        method_by_initiator(JOBS_CANCEL, partial(jobs_cancel, commands=commands)),
        method_by_initiator(JOBS_RETRY, partial(jobs_retry, commands=commands)),
        method_by_initiator(JOBS_DELETE, partial(jobs_delete, commands=commands)),
    ]
