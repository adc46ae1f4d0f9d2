"""The daemon's socket methods as typed coroutines: the only place the TUI names a method or a parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from archived_tui.models import (
    CoursePage,
    CourseTree,
    CourseView,
    DaemonStatus,
    DriverInfo,
    JobPage,
    JobSummary,
    JobView,
    LogPage,
    SettingDescription,
    TargetStatus,
)


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
    """Typed wrappers over the socket methods of protocol version 1."""

    def __init__(self, call: Caller | Callable[..., Any]) -> None:
        self._call = call

    async def daemon_status(self) -> DaemonStatus:
        """`daemon.status`."""
        return DaemonStatus.model_validate(await self._call("daemon.status"))

    async def list_jobs(
        self, *, states: Iterable[str] | None = None, cmid: int | None = None, limit: int = 100, offset: int = 0
    ) -> JobPage:
        """`jobs.list`, newest first."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if states is not None:
            params["states"] = sorted(states)
        if cmid is not None:
            params["cmid"] = cmid
        return JobPage.model_validate(await self._call("jobs.list", params))

    async def get_job(self, job_id: str) -> JobView:
        """`jobs.get`: the job with its timeline and artifacts."""
        return JobView.model_validate(await self._call("jobs.get", {"job_id": job_id}))

    async def job_logs(
        self, job_id: str, *, before_id: int | None = None, limit: int = 200, min_level: str = "debug"
    ) -> LogPage:
        """`jobs.logs`: a page of log lines, newest first, older than `before_id`."""
        params: dict[str, Any] = {"job_id": job_id, "limit": limit, "min_level": min_level}
        if before_id is not None:
            params["before_id"] = before_id
        return LogPage.model_validate(await self._call("jobs.logs", params))

    async def create_job(self, request: JobRequest) -> tuple[JobSummary, list[str]]:
        """`jobs.create`; returns the queued job and the requested settings a preset lock overrode."""
        params: dict[str, Any] = {"course_id": request.course_id, "cmid": request.cmid, "settings": request.settings}
        if request.driver:
            params["driver"] = request.driver
        answer = await self._call("jobs.create", params)
        return JobSummary.model_validate(answer["job"]), list(answer.get("forced", []))

    async def cancel_job(self, job_id: str) -> JobSummary:
        """`jobs.cancel`."""
        return JobSummary.model_validate((await self._call("jobs.cancel", {"job_id": job_id}))["job"])

    async def retry_job(self, job_id: str) -> JobSummary:
        """`jobs.retry`."""
        return JobSummary.model_validate((await self._call("jobs.retry", {"job_id": job_id}))["job"])

    async def delete_job(self, job_id: str, *, force: bool = False) -> Deletion:
        """`jobs.delete`: removes the stored archives; the job record stays as evidence."""
        answer = await self._call("jobs.delete", {"job_id": job_id, "force": force})
        return Deletion(JobSummary.model_validate(answer["job"]), list(answer.get("deleted", [])))

    async def describe_settings(self, driver: str) -> list[SettingDescription]:
        """`settings.describe`: the job's and the driver's settings with presets and locks."""
        answer = await self._call("settings.describe", {"driver": driver})
        return [SettingDescription.model_validate(s) for s in answer["settings"]]

    async def drivers(self) -> list[DriverInfo]:
        """`drivers.list`: installed activity drivers."""
        return [DriverInfo.model_validate(d) for d in (await self._call("drivers.list"))["activity"]]

    async def storage_status(self, *, probe: bool, target: str | None = None) -> list[TargetStatus]:
        """`storage.status`; with `probe` every target runs its write/read/delete probe now."""
        params: dict[str, Any] = {"probe": probe}
        if target is not None:
            params["target"] = target
        return [TargetStatus.model_validate(t) for t in (await self._call("storage.status", params))["targets"]]

    async def course_tree(self) -> CourseTree:
        """`courses.tree`: the category tree."""
        return CourseTree.model_validate(await self._call("courses.tree", {}))

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
        return CoursePage.model_validate(await self._call("courses.list", params))

    async def show_course(self, course_id: int) -> CourseView:
        """`courses.show`: a course's activities with their badges."""
        return CourseView.model_validate(await self._call("courses.show", {"course_id": course_id}))

    async def refresh_courses(self, course_id: int | None = None) -> bool:
        """`courses.refresh`: ask the daemon to read the course (or all courses) from Moodle again."""
        await self._call("courses.refresh", {} if course_id is None else {"course_id": course_id})
        return True
