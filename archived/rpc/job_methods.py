"""The `jobs.*` methods: create, find (filter, search, sort, page), show, page through logs, cancel, retry and
delete archive jobs, one at a time or every job a filter matches."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from functools import partial
from typing import Any, Protocol

from pydantic import PrivateAttr

from archived.errors import ArchivedError
from archived.jobs.bulk import BulkCommands, BulkOutcome, MoreMatches
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.jobs import (
    BulkDeleteParams,
    BulkDeleteResult,
    BulkParams,
    BulkResult,
    Completeness,
    CreateJobParams,
    CreateJobResult,
    DeleteParams,
    DeleteResult,
    JobFilter,
    JobPage,
    JobRef,
    JobResult,
    JobView,
    ListJobsParams,
    LogPage,
    LogsParams,
    SkippedJobs,
)
from archived.protocol.methods import (
    JOBS_CANCEL,
    JOBS_CANCEL_MATCHING,
    JOBS_CREATE,
    JOBS_DELETE,
    JOBS_DELETE_MATCHING,
    JOBS_GET,
    JOBS_LIST,
    JOBS_LOGS,
    JOBS_RETRY,
    JOBS_RETRY_MATCHING,
)
from archived.protocol.states import JobState
from archived.rpc.method import Method, method, method_by_initiator
from archived.store.job_queries import InvalidCursor, SortOrder
from archived.store.jobs import JobStore
from archived.store.pending_copies import PendingCopyStore
from archived.store.records import Initiator, JobRecord

_FILTER_FIELDS = set(JobFilter.model_fields)


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
    presets = job.settings.get("presets") or {}
    locks = {**presets.get("locked", {}).get("job", {}), **presets.get("locked", {}).get("activity", {})}
    return CreateJobResult(
        job=job.to_summary(), forced=forced, locked_by={key: locks.get(key, "site") for key in forced}
    )


class WrittenJobPage(JobPage):
    """A page of jobs whose summaries are JSON already (each written once per change of its job, by the store):
    the answer is those texts joined, not a page of models serialised again. `jobs` stays empty; `page()` reads
    the texts back into a `JobPage` for callers in the daemon."""

    _summaries: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def of(cls, summaries: list[str], *, total: int, offset: int, next_cursor: str | None) -> WrittenJobPage:
        """A page from its summaries' JSON texts."""
        page = cls.model_construct(jobs=[], total=total, offset=offset, next_cursor=next_cursor)
        page._summaries = summaries
        return page

    def model_dump_json(self, **_: Any) -> str:
        """The page as the protocol writes it (`JobPage`), its summaries spliced in as written."""
        tail = json.dumps(
            {"total": self.total, "offset": self.offset, "next_cursor": self.next_cursor}, separators=(",", ":")
        )
        return '{"jobs":[' + ",".join(self._summaries) + "]," + tail[1:]

    def page(self) -> JobPage:
        """The page as models."""
        return JobPage.model_validate_json(self.model_dump_json())


async def jobs_list(params: ListJobsParams, *, store: JobStore) -> WrittenJobPage:
    """A page of the jobs that match the filter, in the requested order, with the number of all that match."""
    if params.cursor is not None and params.offset:
        raise RpcError(ErrorCode.INVALID_PARAMS, "cursor and offset: give one (cursor pages after a job, offset skips)")
    try:
        listing = await store.list_summaries(
            _criteria(params),
            sort=SortOrder(params.sort, params.descending),
            limit=params.limit,
            offset=params.offset,
            cursor=params.cursor,
        )
    except InvalidCursor as exc:
        raise RpcError(ErrorCode.INVALID_PARAMS, str(exc)) from None
    return WrittenJobPage.of(
        listing.summaries, total=listing.total, offset=params.offset, next_cursor=listing.next_cursor
    )


async def jobs_get(params: JobRef, *, jobs: JobLookup, store: JobStore) -> JobView:
    """One job with its timeline and artifacts."""
    job_id = await jobs.resolve_job_id(params.job_id)
    job = await jobs.get_job(job_id)
    timeline = await store.timeline(job_id)
    artifacts = await store.artifacts(job_id)
    pending = await PendingCopyStore(store.db).of_job(job_id)  # copies optional targets still miss
    checkpoints = await store.checkpoints(job_id)
    activity = checkpoints.get(JobState.ACTIVITY_ARCHIVING.value, {})
    return JobView(
        completeness=completeness_of(activity.get("result", {}).get("summary", {})),
        job=job.to_detail(),
        timeline=[step.to_wire() for step in timeline],
        artifacts=[
            artifact.to_wire().model_copy(
                update={"pending": [copy.to_wire() for copy in pending if copy.artifact_id == artifact.id]}
            )
            for artifact in artifacts
        ],
    )


def completeness_of(summary: dict[str, Any]) -> Completeness | None:
    """The short view of a driver's `summary.completeness` (quiz: not_checked; assignment: unreachable users)."""
    found = summary.get("completeness")
    if not isinstance(found, dict):
        return None
    gaps = [str(item) for item in found.get("not_checked", [])]
    gaps += [f"{user.get('name', user.get('userid'))}: {user.get('reason', '')}" for user in
             found.get("unreachable_users", [])]  # fmt: skip
    archived = found.get("attempts_archived", found.get("participants_archived"))
    return Completeness(
        complete=bool(found.get("complete")),
        users_checked=found.get("users_checked"),
        attempts_found=found.get("attempts_found"),
        archived=archived,
        gaps=gaps,
        statement=[str(line) for line in found.get("statement", [])],
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


def _bulk_result(outcome: BulkOutcome) -> BulkResult:
    return BulkResult(
        matched=outcome.matched,
        acted=len(outcome.acted),
        job_ids=outcome.acted,
        skipped=[SkippedJobs(reason=reason, job_ids=ids) for reason, ids in outcome.skipped.items()],
    )


async def _refused_if_more(action: Awaitable[BulkOutcome]) -> BulkOutcome:
    """A bulk action's outcome; `MORE_MATCHES` (with both counts) if the filter matches more than expected."""
    try:
        return await action
    except MoreMatches as exc:
        raise RpcError(ErrorCode.MORE_MATCHES, str(exc), {"expected": exc.expected, "matched": exc.matched}) from None


def _criteria(params: JobFilter) -> JobFilter:
    """The filter part of a request's parameters (the key of its answers kept by the store)."""
    return JobFilter.model_construct(**{name: getattr(params, name) for name in _FILTER_FIELDS})


async def jobs_retry_matching(params: BulkParams, initiator: Initiator, *, bulk: BulkCommands) -> BulkResult:
    """Retry every failed, canceled or timed-out job the filter matches."""
    action = bulk.retry_matching(_criteria(params), expected=params.expected, by=initiator)
    return _bulk_result(await _refused_if_more(action))


async def jobs_cancel_matching(params: BulkParams, initiator: Initiator, *, bulk: BulkCommands) -> BulkResult:
    """Cancel every job the filter matches that has not ended."""
    action = bulk.cancel_matching(_criteria(params), expected=params.expected, by=initiator)
    return _bulk_result(await _refused_if_more(action))


async def jobs_delete_matching(
    params: BulkDeleteParams, initiator: Initiator, *, bulk: BulkCommands
) -> BulkDeleteResult:
    """Delete the archives of every ended job the filter matches (retained ones only with `force`)."""
    action = bulk.delete_matching(_criteria(params), expected=params.expected, by=initiator, force=params.force)
    outcome = await _refused_if_more(action)
    result = _bulk_result(outcome)
    return BulkDeleteResult(**dict(result), deleted_copies=outcome.deleted_copies)


def job_methods(*, commands: JobCommands, store: JobStore, activities: ActivityLookup | None) -> list[Method[Any, Any]]:
    """The `jobs.*` methods, bound to the engine, the store and (with Moodle) the course overview."""
    bulk = BulkCommands(commands=commands, store=store)
    return [
        method_by_initiator(JOBS_CREATE, partial(jobs_create, commands=commands, activities=activities)),
        method(JOBS_LIST, partial(jobs_list, store=store)),
        method(JOBS_GET, partial(jobs_get, jobs=commands, store=store)),
        method(JOBS_LOGS, partial(jobs_logs, jobs=commands, store=store)),
        method_by_initiator(JOBS_CANCEL, partial(jobs_cancel, commands=commands)),
        method_by_initiator(JOBS_RETRY, partial(jobs_retry, commands=commands)),
        method_by_initiator(JOBS_DELETE, partial(jobs_delete, commands=commands)),
        method_by_initiator(JOBS_RETRY_MATCHING, partial(jobs_retry_matching, bulk=bulk)),
        method_by_initiator(JOBS_CANCEL_MATCHING, partial(jobs_cancel_matching, bulk=bulk)),
        method_by_initiator(JOBS_DELETE_MATCHING, partial(jobs_delete_matching, bulk=bulk)),
    ]
