"""Typed views of the socket protocol's results, as the TUI reads them.

Unknown fields are ignored and optional ones have defaults, so a newer daemon that adds fields does not
break an older TUI of the same protocol version.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


def _allows_none(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return annotation is None or (
        origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)
    )


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        """A null where this TUI expects a value means "not known": the field's default applies."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        by_alias = {str(f.alias): name for name, f in fields.items() if f.alias}
        kept = {}
        for key, value in data.items():
            field = fields.get(by_alias.get(str(key), str(key)))
            if value is None and field is not None and not field.is_required() and not _allows_none(field.annotation):
                continue
            kept[key] = value
        return kept


class Initiator(_View):
    """Who started a job."""

    kind: str
    name: str
    uid: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class JobSummary(_View):
    """One job as `jobs.list` and the job events show it."""

    id: str
    driver: str
    course_id: int
    cmid: int
    course_name: str = ""
    activity_name: str = ""
    state: str
    progress: float = 0.0
    progress_text: str = ""
    initiator: Initiator
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_seconds: float = 0.0
    error_code: str | None = None
    error_message: str | None = None
    deleted: bool = False

    @property
    def activity_label(self) -> str:
        """The activity's name, or its cmid when the daemon did not learn the name."""
        return self.activity_name or f"cmid {self.cmid}"

    @property
    def course_label(self) -> str:
        """The course's name, or its id."""
        return self.course_name or f"course {self.course_id}"


class JobDetail(JobSummary):
    """Everything `jobs.get` says about the job itself."""

    settings: dict[str, Any] = Field(default_factory=dict)
    outcome: str | None = None
    failed_stage: str | None = None
    retries: int = 0
    next_retry_at: datetime | None = None
    timeout_seconds: float | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class Transition(_View):
    """One step of a job's stage timeline."""

    from_state: str = Field(alias="from")
    to_state: str = Field(alias="to")
    at: datetime
    reason: str = ""


class StoredLocation(_View):
    """One copy of an archive on one storage target."""

    target: str
    location: str
    size: int
    sha256: str
    stored_at: datetime | None = None
    deleted_at: datetime | None = None


class Artifact(_View):
    """A file a job produced, with its checksum and copies."""

    name: str
    size: int
    sha256: str
    created_at: datetime | None = None
    retain_until: datetime | None = None
    locations: list[StoredLocation] = Field(default_factory=list)
    # RFC 3161 timestamp status, once the daemon reports it (e.g. {"status": "ok", "tsa": …, "at": …}).
    timestamp: dict[str, Any] | None = None


class JobView(_View):
    """`jobs.get`: the job, its timeline and its artifacts."""

    job: JobDetail
    timeline: list[Transition] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list)


class LogEntry(_View):
    """One line of a job's log."""

    id: int
    at: datetime
    level: str
    message: str


class LogPage(_View):
    """`jobs.logs`: newest first; `next_before_id` pages further back."""

    job_id: str
    entries: list[LogEntry]
    next_before_id: int | None = None


class JobPage(_View):
    """`jobs.list`: a page of jobs, newest first, and how many match in all."""

    jobs: list[JobSummary]
    total: int
    offset: int = 0


class MoodleStatus(_View):
    """The Moodle site as the daemon last saw it."""

    url: str = ""
    sitename: str | None = None
    release: str | None = None
    reachable: bool | None = None
    error: str | None = None
    latency_ms: float | None = None
    checked_at: datetime | None = None


class ScheduledRun(_View):
    """A schedule's next run (reported once the daemon has schedules)."""

    name: str
    next_run_at: datetime | None = None
    description: str = ""


class DaemonStatus(_View):
    """`daemon.status`."""

    version: str
    pid: int
    started_at: float
    uptime_seconds: float = 0.0
    draining: bool = False
    running: int = 0
    jobs: dict[str, int] = Field(default_factory=dict)
    jobs_last_24h: dict[str, int] = Field(default_factory=dict)
    drivers: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    moodle: MoodleStatus | None = None
    connections: int = 0
    schedules: list[ScheduledRun] | None = None


class TargetStatus(_View):
    """One storage target from `storage.status` (the probe fields only when it probed)."""

    name: str
    driver: str
    tier: str
    required: bool = True
    archives: int = 0
    bytes: int = 0
    reachable: bool | None = None
    latency_ms: float | None = None
    free_bytes: int | None = None
    total_bytes: int | None = None
    probe_ok: bool | None = None
    message: str = ""

    @property
    def probed(self) -> bool:
        """Whether this answer includes a status check."""
        return self.reachable is not None

    @property
    def healthy(self) -> bool:
        """Reachable and the write/read/delete probe passed."""
        return bool(self.reachable and self.probe_ok)


class SettingDescription(_View):
    """One setting of the new-job dialog: its type, preset value and lock."""

    key: str
    type: Literal["str", "int", "float", "bool", "list", "choice"] | str
    default: Any = None
    value: Any = None
    locked: bool = False
    description: str = ""
    choices: list[Any] | None = None


class DriverInfo(_View):
    """An installed activity driver."""

    name: str
    title: str = ""
    modname: str = ""


class Category(_View):
    """A Moodle course category."""

    id: int
    name: str
    parent: int | None = None
    path: str = ""
    depth: int = 1
    course_count: int = 0


class CourseTree(_View):
    """`courses.tree`."""

    categories: list[Category]
    refreshed_at: datetime | None = None


class Course(_View):
    """A course from `courses.list`."""

    id: int
    shortname: str
    fullname: str = ""
    category_id: int | None = None
    category_name: str = ""
    visible: bool = True
    activity_count: int | None = None  # None until the daemon has read the course's activities


class CoursePage(_View):
    """`courses.list`."""

    courses: list[Course]
    total: int


class LastArchive(_View):
    """The newest archive job of an activity."""

    job_id: str
    at: datetime | None = None
    state: str = ""


Badge = Literal["archived", "changed", "never", "unsupported", "not_ready"]
BADGES: tuple[str, ...] = ("archived", "changed", "never", "unsupported", "not_ready")


class Activity(_View):
    """An activity of a course with its archive badge."""

    cmid: int
    modname: str
    name: str
    driver: str | None = None
    supported: bool = False
    archivable: bool = False
    reason: str | None = None
    badge: str = "never"
    last_archive: LastArchive | None = None
    fingerprint: str | None = None


class CourseView(_View):
    """`courses.show`: one course and its activities."""

    course: Course
    activities: list[Activity]
    refreshed_at: datetime | None = None
    error: str | None = None  # what went wrong while the daemon inspected the activities
