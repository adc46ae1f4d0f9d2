"""The daemon's socket methods as typed coroutines: the only place the TUI names a method or a parameter.

Methods, parameters and results are the protocol's (`archived.protocol`), the same models the daemon answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.connectors import (
    ConnectorList,
    ConnectorTestParams,
    DeadLetterPage,
    DeadLettersParams,
    DeliveryAttempt,
    RedeliverParams,
)
from archived.protocol.courses import (
    CoursePage,
    CourseRefParams,
    CourseTree,
    CourseView,
    ListCoursesParams,
    RefreshParams,
    RefreshResult,
)
from archived.protocol.daemon import DaemonStatus
from archived.protocol.drivers import DriverInfo, DriverRef, SettingsDescription
from archived.protocol.jobs import (
    BulkDeleteParams,
    BulkDeleteResult,
    BulkParams,
    BulkResult,
    CreateJobParams,
    DeleteParams,
    JobPage,
    JobRef,
    JobSummary,
    JobView,
    ListJobsParams,
    LogPage,
    LogsParams,
)
from archived.protocol.methods import MethodSpec
from archived.protocol.states import JobState
from archived.protocol.storage import StorageStatusParams, TargetStatus

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class Caller(Protocol):
    """Something that sends one request and returns its result (raising `RpcError`/`DaemonUnreachable`)."""

    async def __call__(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class JobRequest:
    """What the new-job dialog asks the daemon to archive."""

    course_id: int
    cmid: int
    driver: str | None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Deletion:
    """The daemon's answer to a delete: the job and the stored copies it removed."""

    job: JobSummary
    deleted: list[str]


class DaemonApi:
    """Typed wrappers over the socket methods of the protocol's catalogue."""

    def __init__(self, call: Caller | Callable[..., Any]) -> None:
        self._call = call

    async def request(self, spec: MethodSpec[P, R], params: P) -> R:
        """Any method of the catalogue, typed (the shape `archived.protocol`'s upload and download helpers use)."""
        return spec.decode(await self._call(spec.name, spec.encode(params)))

    async def daemon_status(self) -> DaemonStatus:
        """`daemon.status`."""
        return await self.request(rpc.DAEMON_STATUS, NoParams())

    async def list_jobs(
        self, *, states: Iterable[str] | None = None, cmid: int | None = None, limit: int = 100, offset: int = 0
    ) -> JobPage:
        """`jobs.list`, newest first."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if states is not None:
            params["states"] = [JobState(state) for state in sorted(states)]
        if cmid is not None:
            params["cmid"] = cmid
        return await self.request(rpc.JOBS_LIST, ListJobsParams(**params))

    async def find_jobs(
        self, criteria: dict[str, Any], *, limit: int = 100, cursor: str | None = None, offset: int = 0
    ) -> JobPage:
        """`jobs.list` with search, filters and sort (`JobQuery.list_params`): a page after `cursor` or `offset`."""
        params: dict[str, Any] = {**criteria, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        else:
            params["offset"] = offset
        return await self.request(rpc.JOBS_LIST, ListJobsParams(**params))

    async def retry_matching(self, criteria: dict[str, Any], *, expected: int) -> BulkResult:
        """`jobs.retry_matching`: retry every failed/canceled job the filter matches (refused if more than
        `expected` match)."""
        return await self.request(rpc.JOBS_RETRY_MATCHING, BulkParams(**criteria, expected=expected))

    async def cancel_matching(self, criteria: dict[str, Any], *, expected: int) -> BulkResult:
        """`jobs.cancel_matching`: cancel every active job the filter matches."""
        return await self.request(rpc.JOBS_CANCEL_MATCHING, BulkParams(**criteria, expected=expected))

    async def delete_matching(
        self, criteria: dict[str, Any], *, expected: int, force: bool = False
    ) -> BulkDeleteResult:
        """`jobs.delete_matching`: delete the archives of every matching job (retained ones only with `force`)."""
        params = BulkDeleteParams(**criteria, expected=expected, force=force)
        return await self.request(rpc.JOBS_DELETE_MATCHING, params)

    async def get_job(self, job_id: str) -> JobView:
        """`jobs.get`: the job with its timeline and artifacts."""
        return await self.request(rpc.JOBS_GET, JobRef(job_id=job_id))

    async def job_logs(
        self, job_id: str, *, before_id: int | None = None, limit: int = 200, min_level: str = "debug"
    ) -> LogPage:
        """`jobs.logs`: a page of log lines, newest first, older than `before_id`."""
        params: dict[str, Any] = {"job_id": job_id, "limit": limit, "min_level": min_level}
        if before_id is not None:
            params["before_id"] = before_id
        return await self.request(rpc.JOBS_LOGS, LogsParams(**params))

    async def create_job(self, request: JobRequest) -> tuple[JobSummary, list[str]]:
        """`jobs.create`; returns the queued job and the requested settings a preset lock overrode."""
        params: dict[str, Any] = {"course_id": request.course_id, "cmid": request.cmid, "settings": request.settings}
        if request.driver:
            params["driver"] = request.driver
        answer = await self.request(rpc.JOBS_CREATE, CreateJobParams(**params))
        return answer.job, answer.forced

    async def cancel_job(self, job_id: str) -> JobSummary:
        """`jobs.cancel`."""
        return (await self.request(rpc.JOBS_CANCEL, JobRef(job_id=job_id))).job

    async def retry_job(self, job_id: str) -> JobSummary:
        """`jobs.retry`."""
        return (await self.request(rpc.JOBS_RETRY, JobRef(job_id=job_id))).job

    async def delete_job(self, job_id: str, *, force: bool = False) -> Deletion:
        """`jobs.delete`: removes the stored archives; the job record stays as evidence."""
        answer = await self.request(rpc.JOBS_DELETE, DeleteParams(job_id=job_id, force=force))
        return Deletion(answer.job, answer.deleted)

    async def describe_settings(self, driver: str, course_id: int | None = None) -> SettingsDescription:
        """`settings.describe`: the job's and the driver's settings with presets and locks (with a course: its
        categories' presets too)."""
        return await self.request(rpc.SETTINGS_DESCRIBE, DriverRef(driver=driver, course_id=course_id))

    async def drivers(self) -> list[DriverInfo]:
        """`drivers.list`: installed activity drivers."""
        return (await self.request(rpc.DRIVERS_LIST, NoParams())).activity

    async def storage_status(self, *, probe: bool, target: str | None = None) -> list[TargetStatus]:
        """`storage.status`; with `probe` every target runs its write/read/delete probe now."""
        params: dict[str, Any] = {"probe": probe}
        if target is not None:
            params["target"] = target
        return (await self.request(rpc.STORAGE_STATUS, StorageStatusParams(**params))).targets

    async def course_tree(self) -> CourseTree:
        """`courses.tree`: the category tree."""
        return await self.request(rpc.COURSES_TREE, NoParams())

    async def list_courses(
        self,
        *,
        category_id: int | None = None,
        search: str | None = None,
        badge: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> CoursePage:
        """`courses.list`: a page of courses, filtered."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if category_id is not None:
            params["category_id"] = category_id
        if search:
            params["search"] = search
        if badge:
            params["badge"] = badge
        return await self.request(rpc.COURSES_LIST, ListCoursesParams(**params))

    async def show_course(self, course_id: int) -> CourseView:
        """`courses.show`: a course's activities with their badges."""
        return await self.request(rpc.COURSES_SHOW, CourseRefParams(course_id=course_id))

    async def refresh_courses(self, course_id: int | None = None) -> RefreshResult:
        """`courses.refresh`: ask the daemon to read the course (or all courses) from Moodle again."""
        params = RefreshParams() if course_id is None else RefreshParams(course_id=course_id)
        return await self.request(rpc.COURSES_REFRESH, params)

    async def connectors(self) -> ConnectorList:
        """`connectors.list`: every connector with its lane."""
        return await self.request(rpc.CONNECTORS_LIST, NoParams())

    async def dead_letters(self, *, connector: str | None = None, limit: int = 100) -> DeadLetterPage:
        """`connectors.dead_letters`: events a connector gave up on, newest first."""
        return await self.request(rpc.CONNECTORS_DEAD_LETTERS, DeadLettersParams(connector=connector, limit=limit))

    async def redeliver(self, dead_letter_id: int) -> DeliveryAttempt:
        """`connectors.redeliver`: try a dead letter once more, now (operators only)."""
        return await self.request(rpc.CONNECTORS_REDELIVER, RedeliverParams(id=dead_letter_id))

    async def test_connector(self, name: str) -> DeliveryAttempt:
        """`connectors.test`: send a `connector.test` event through the connector (operators only)."""
        return await self.request(rpc.CONNECTORS_TEST, ConnectorTestParams(name=name))
