"""The `jobs.*` methods: requests and the job views they answer with (also the payload of job events)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime
from archived.protocol.copies import PendingCopy
from archived.protocol.states import JobState, Outcome

LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warning", "error")


class Initiator(Answer):
    """Who asked for a job."""

    kind: str = Field(description='"operator" (by peer credentials), "schedule" or "demo"')
    name: str
    uid: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class JobSummary(Answer):
    """One job as `jobs.list` and the job events show it."""

    id: str
    driver: str
    course_id: int
    cmid: int
    course_name: str = ""
    activity_name: str = ""
    state: JobState
    progress: float = Field(default=0.0, description="0-100")
    progress_text: str = ""
    initiator: Initiator
    created_at: UtcTime | None = None
    started_at: UtcTime | None = None
    finished_at: UtcTime | None = None
    run_seconds: float = Field(default=0.0, description="time spent in the processing stages")
    error_code: str | None = None
    error_message: str | None = None
    deleted: bool = Field(default=False, description="its archives were deleted; the record stays as evidence")

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

    settings: dict[str, Any] = Field(default_factory=dict, description='resolved settings: {"job": …, "activity": …}')
    outcome: Outcome | None = Field(default=None, description="where Cleanup leads, once entered")
    failed_stage: JobState | None = None
    retries: int = 0
    next_retry_at: UtcTime | None = None
    timeout_seconds: float | None = None
    updated_at: UtcTime | None = None
    deleted_at: UtcTime | None = None
    fingerprint: str | None = Field(default=None, description="the activity's state when it was archived")


class TimelineEntry(Answer):
    """One step of a job's stage timeline."""

    from_state: JobState = Field(alias="from")
    to_state: JobState = Field(alias="to")
    at: UtcTime
    reason: str = ""


class StoredLocation(Answer):
    """One copy of an archive on one storage target, verified when stored."""

    target: str
    location: str
    size: int
    sha256: str
    stored_at: UtcTime | None = None
    deleted_at: UtcTime | None = None


class Artifact(Answer):
    """A file a job produced (the archive ZIP), with its checksum and copies."""

    name: str
    size: int
    sha256: str
    created_at: UtcTime | None = None
    retain_until: UtcTime | None = None
    locations: list[StoredLocation] = Field(default_factory=list)
    timestamp: dict[str, Any] | None = Field(
        default=None,
        description='RFC 3161 timestamp status, e.g. {"status": "ok", "tsa": …, "at": …}; null: not timestamped',
    )
    pending: list[PendingCopy] = Field(
        default_factory=list, description="copies on optional targets that failed and are retried in the background"
    )


class LogEntry(Answer):
    """One line of a job's log."""

    id: int
    at: UtcTime
    level: LogLevel
    message: str


class JobRef(Params):
    """A method about one job."""

    job_id: str = Field(min_length=1, description="a job id, or a unique prefix of at least 4 characters")


class CreateJobParams(Params):
    """What to archive, and the settings requested for it."""

    course_id: int = Field(gt=0)
    cmid: int = Field(gt=0, description="the activity's course module id")
    driver: str | None = Field(default=None, description="default: the driver of the activity's type (needs [moodle])")
    settings: dict[str, Any] = Field(default_factory=dict, description="requested settings; locked ones are forced")


class CreateJobResult(Answer):
    """The queued job, and the requested settings a preset lock overrode."""

    job: JobSummary
    forced: list[str] = Field(default_factory=list)
    locked_by: dict[str, str] = Field(
        default_factory=dict, description="each forced setting → the preset that locks it: site, category <id>"
    )


class JobSortKey(StrEnum):
    """What `jobs.list` sorts by; jobs with equal values keep the order of their ids, so a sort is stable."""

    CREATED = "created"
    FINISHED = "finished"
    STATE = "state"
    COURSE = "course"
    ACTIVITY = "activity"
    ERROR_CODE = "error_code"
    INITIATOR = "initiator"
    RUN_TIME = "run_time"


class JobFilter(Params):
    """Which jobs: every criterion given must hold (none given: every job that is not deleted)."""

    search: str | None = Field(
        default=None,
        max_length=200,
        description="text found (case-insensitive) in the course or activity name, the error code or the "
        "initiator's name, or the start of the job id",
    )
    states: list[JobState] | None = Field(default=None, description="the job is in one of these states")
    error_codes: list[str] | None = Field(default=None, description="the job's error code is one of these")
    course_id: int | None = Field(default=None, description="the Moodle course's id")
    cmid: int | None = Field(default=None, description="the activity's course module id")
    created_since: UtcTime | None = Field(default=None, description="created at or after this time")
    created_until: UtcTime | None = Field(default=None, description="created before this time")
    include_deleted: bool = Field(default=False, description="also jobs whose archives were deleted")


class ListJobsParams(JobFilter):
    """Which jobs, sorted, a page at a time: pass `next_cursor` of a page as `cursor` for the next one (keyset
    paging: no job is shown twice or skipped while jobs are added). `offset` is protocol 1's paging."""

    sort: JobSortKey = Field(default=JobSortKey.CREATED, description="jobs with equal values stay in job id order")
    descending: bool = Field(default=True, description="largest first (newest first for `created`)")
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = Field(default=None, description="`next_cursor` of the page before; same filter and sort")
    offset: int = Field(default=0, ge=0, description="rows to skip (not with `cursor`)")


class JobPage(Answer):
    """A page of jobs in the requested order, how many match in all, and the cursor of the next page."""

    jobs: list[JobSummary]
    total: int = Field(description="how many jobs match the filter in all")
    offset: int = 0
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page; null: last page")


class BulkParams(JobFilter):
    """Act on every job that matches the filter; refused if it now matches more than the `expected` jobs that the
    client showed the operator."""

    expected: int = Field(ge=0, description="how many matching jobs the client showed (the total of `jobs.list`)")


class BulkDeleteParams(BulkParams):
    """Delete the archives of every matching job; archives still under retention only with `force`."""

    force: bool = False


class SkippedJobs(Answer):
    """Matching jobs that were left alone, and why (e.g. `not failed (completed)`, `retained until 2029-03-01`)."""

    reason: str
    job_ids: list[str]


class BulkResult(Answer):
    """What a bulk action did: how many jobs matched, which it acted on, which it skipped and why."""

    matched: int = Field(description="how many jobs the filter matched")
    acted: int = Field(description="how many of them it acted on")
    job_ids: list[str] = Field(default_factory=list, description="the jobs acted on")
    skipped: list[SkippedJobs] = Field(default_factory=list, description="grouped by reason")


class BulkDeleteResult(BulkResult):
    """A bulk delete, and how many stored copies it removed."""

    deleted_copies: int = 0


class Completeness(Answer):
    """What the activity driver checked so that nothing is missing from the archive (job.json's
    `summary.completeness`, in short)."""

    complete: bool = Field(description="false when the driver knows of something that is not in the archive")
    users_checked: int | None = None
    attempts_found: int | None = Field(default=None, description="quiz attempts found (any state)")
    archived: int | None = Field(default=None, description="attempts or participants archived")
    gaps: list[str] = Field(
        default_factory=list, description="what could not be checked, or who is missing (by name), in words"
    )
    statement: list[str] = Field(default_factory=list, description="the statement README.txt holds, in lines")

    @property
    def counts(self) -> str:
        """What was checked and found, in a few words: "30 users checked, 42 attempts found, 40 archived"."""
        parts = [
            f"{self.users_checked} users checked" if self.users_checked is not None else "",
            f"{self.attempts_found} attempts found" if self.attempts_found is not None else "",
            f"{self.archived} archived" if self.archived is not None else "",
        ]
        return ", ".join(part for part in parts if part) or "-"


class JobView(Answer):
    """The job, its timeline and its artifacts."""

    job: JobDetail
    timeline: list[TimelineEntry] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list)
    completeness: Completeness | None = Field(
        default=None, description="once the activity is archived, for drivers that state it (quiz, assignment)"
    )


class LogsParams(JobRef):
    """A page of a job's log lines, newest first, older than `before_id`."""

    before_id: int | None = None
    limit: int = Field(default=200, ge=1, le=5000)
    min_level: LogLevel = "debug"


class LogPage(Answer):
    """Log lines, newest first; `next_before_id` pages further back (null: no older lines)."""

    job_id: str
    entries: list[LogEntry]
    next_before_id: int | None = None


class JobResult(Answer):
    """The job after `jobs.cancel` or `jobs.retry`."""

    job: JobSummary


class DeleteParams(JobRef):
    """Which job; archives still under retention are only deleted with `force`."""

    force: bool = False


class DeleteResult(Answer):
    """The job (marked deleted) and the stored copies removed, as `target:location`."""

    job: JobSummary
    deleted: list[str] = Field(default_factory=list)
