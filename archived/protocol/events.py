"""The event catalogue (ARCHITECTURE §7): every event the daemon emits, its wire name, its payload schema with a
version, and whether it is durable.

Durable events are written to the store's outbox in the same transaction as the change that caused them; the
dispatcher delivers them in outbox order to the live bus (socket subscribers) and to every other consumer, each at
its own position, so none is lost across a restart. Notifications (`job.progress`, `courses.refreshed`) go to the
live bus only: each one replaces the previous one (progress is coalesced per job, and the job's row and its next
`job.state` carry it too), so keeping them would cost a store write per update for nothing a consumer could use
later.

| catalogue entry | wire name | durable |
|---|---|---|
| job created | `job.created` | yes |
| job updated (a state change, or a timeline note with `from` = `to`) | `job.state` | yes |
| job completed / failed / aborted (canceled or timed out) | `job.completed`, `job.failed`, `job.aborted` | yes |
| job deleted | `job.deleted` | yes |
| job log line | `job.log` | yes |
| job progress | `job.progress` | no (coalesced) |
| activity task created / completed / failed | `activity.task.created`, `…completed`, `…failed` | yes |
| storage write task created / completed / failed | `storage.write.created`, `…completed`, `…failed` | yes |
| storage read task created / completed / failed | `storage.read.*` | reserved |
| connector transmission completed / failed | `connector.transmission.*` | reserved |
| course overview refreshed | `courses.refreshed` | no |
| a schedule ran (what it selected and skipped, how many runs it caught up) | `schedule.run` | yes |
| a schedule selected nothing for `policy.idle_days` | `schedule.idle` | yes |
| a job a schedule created failed | `schedule.job_failed` | yes |
| a mandatory policy rule is broken (a daily reminder per activity) | `policy.reminder` | yes |

A payload's `VERSION` changes when a field is removed or changes meaning (adding a field does not); the version
travels with every event (`version` in the notification and in the outbox row).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AliasChoices, Field

from archived.protocol.base import Answer, UtcTime
from archived.protocol.jobs import Initiator, JobSummary, LogLevel
from archived.protocol.states import JobState


class EventKind(StrEnum):
    """Wire names of events, emitted and reserved."""

    JOB_CREATED = "job.created"
    JOB_STATE = "job.state"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_ABORTED = "job.aborted"
    JOB_DELETED = "job.deleted"
    JOB_LOG = "job.log"
    JOB_PROGRESS = "job.progress"
    ACTIVITY_TASK_CREATED = "activity.task.created"
    ACTIVITY_TASK_COMPLETED = "activity.task.completed"
    ACTIVITY_TASK_FAILED = "activity.task.failed"
    STORAGE_WRITE_CREATED = "storage.write.created"
    STORAGE_WRITE_COMPLETED = "storage.write.completed"
    STORAGE_WRITE_FAILED = "storage.write.failed"
    STORAGE_READ_CREATED = "storage.read.created"
    STORAGE_READ_COMPLETED = "storage.read.completed"
    STORAGE_READ_FAILED = "storage.read.failed"
    CONNECTOR_TRANSMISSION_COMPLETED = "connector.transmission.completed"
    CONNECTOR_TRANSMISSION_FAILED = "connector.transmission.failed"
    COURSES_REFRESHED = "courses.refreshed"
    SCHEDULE_RUN = "schedule.run"
    SCHEDULE_IDLE = "schedule.idle"
    SCHEDULE_JOB_FAILED = "schedule.job_failed"
    POLICY_REMINDER = "policy.reminder"


# Named in the catalogue, not emitted yet: nothing reads archives back or transmits to connectors today.
RESERVED_KINDS = frozenset(
    {
        EventKind.STORAGE_READ_CREATED,
        EventKind.STORAGE_READ_COMPLETED,
        EventKind.STORAGE_READ_FAILED,
        EventKind.CONNECTOR_TRANSMISSION_COMPLETED,
        EventKind.CONNECTOR_TRANSMISSION_FAILED,
    }
)


class EventPayload(Answer):
    """The `data` of one event; subclasses name their kind, schema version and durability. Keys a client does not
    know are ignored (a daemon may add fields within a version)."""

    KIND: ClassVar[EventKind]
    VERSION: ClassVar[int] = 1
    DURABLE: ClassVar[bool] = True

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form (wire names for aliased fields)."""
        return self.model_dump(mode="json", by_alias=True)


class JobEvent(EventPayload):
    """An event about one job, carrying its summary as `jobs.list` shows it after the change."""

    job: JobSummary


class JobCreated(JobEvent):
    """A job was created (queued)."""

    KIND = EventKind.JOB_CREATED


class JobStateChanged(JobEvent):
    """The catalogue's *job updated*: a state change (or, with `from` = `to`, a note in the job's timeline)."""

    KIND = EventKind.JOB_STATE

    # On the wire `from` (a Python keyword, hence the field's name here).
    from_state: JobState = Field(validation_alias=AliasChoices("from", "from_state"), serialization_alias="from")
    to: JobState
    reason: str = ""
    recoverable: bool | None = None  # set when `to` is `error`


class JobCompleted(JobEvent):
    """The job ended completed: its archive is stored on every required target."""

    KIND = EventKind.JOB_COMPLETED


class JobFailed(JobEvent):
    """The job ended failed (its summary names the error); sent once per failure."""

    KIND = EventKind.JOB_FAILED


class JobAborted(JobEvent):
    """The job ended canceled or timed out (its summary's state says which)."""

    KIND = EventKind.JOB_ABORTED


class JobDeleted(EventPayload):
    """An ended job's stored archives were deleted; its record stays."""

    KIND = EventKind.JOB_DELETED

    job_id: str
    by: Initiator
    deleted: list[str]  # "target:location" of every copy removed


class JobLogged(EventPayload):
    """A line was added to a job's log."""

    KIND = EventKind.JOB_LOG

    id: int
    at: UtcTime
    level: LogLevel
    message: str


class JobProgress(EventPayload):
    """A running job's progress (bus only, coalesced per job)."""

    KIND = EventKind.JOB_PROGRESS
    DURABLE = False

    progress: float
    text: str


class ActivityTaskCreated(JobEvent):
    """The activity stage (the driver's task) started, first or after a retry."""

    KIND = EventKind.ACTIVITY_TASK_CREATED


class ActivityTaskCompleted(JobEvent):
    """The activity stage finished: its payload is checkpointed."""

    KIND = EventKind.ACTIVITY_TASK_COMPLETED


class ActivityTaskFailed(JobEvent):
    """The activity stage failed (the job's summary names the error; retries follow if it is recoverable)."""

    KIND = EventKind.ACTIVITY_TASK_FAILED

    recoverable: bool


class StorageWriteCreated(EventPayload):
    """An archive is about to be written to a storage target."""

    KIND = EventKind.STORAGE_WRITE_CREATED

    target: str
    name: str
    size: int
    sha256: str


class StorageWriteCompleted(EventPayload):
    """A copy of an archive was written to a target and verified."""

    KIND = EventKind.STORAGE_WRITE_COMPLETED

    target: str
    location: str
    size: int
    sha256: str
    stored_at: UtcTime | None = None
    deleted_at: UtcTime | None = None


class StorageWriteFailed(EventPayload):
    """Writing an archive to a target failed; a required target fails the stage, an optional one is skipped."""

    KIND = EventKind.STORAGE_WRITE_FAILED

    target: str
    name: str
    required: bool
    error_code: str
    error_message: str


class CoursesRefreshed(EventPayload):
    """The course overview was read from Moodle again (bus only)."""

    KIND = EventKind.COURSES_REFRESHED
    DURABLE = False

    courses: int


class ScheduleRan(EventPayload):
    """A schedule ran: how many activities it selected and skipped, and the jobs it created."""

    KIND = EventKind.SCHEDULE_RUN

    schedule: str
    run_id: int
    trigger: str  # cron | missed | run-now | dry-run
    dry_run: bool
    missed: int = 0
    selected: int
    skipped: int
    job_ids: list[str]
    error: str = ""


class ScheduleIdle(EventPayload):
    """A schedule has selected nothing since `since` (reported once until it selects something again)."""

    KIND = EventKind.SCHEDULE_IDLE

    schedule: str
    since: UtcTime
    days: float


class ScheduleJobFailed(JobEvent):
    """A job that a schedule created failed (its summary names the error and, as initiator, the schedule)."""

    KIND = EventKind.SCHEDULE_JOB_FAILED

    schedule: str


class PolicyReminder(EventPayload):
    """An activity a mandatory policy rule says must be archived by `due_at` is not (or changed since)."""

    KIND = EventKind.POLICY_REMINDER

    rule: str
    course_id: int
    cmid: int
    name: str
    type: str
    due_at: UtcTime
    badge: str


EVENT_MODELS: Mapping[EventKind, type[EventPayload]] = {
    model.KIND: model
    for model in (
        JobCreated,
        JobStateChanged,
        JobCompleted,
        JobFailed,
        JobAborted,
        JobDeleted,
        JobLogged,
        JobProgress,
        ActivityTaskCreated,
        ActivityTaskCompleted,
        ActivityTaskFailed,
        StorageWriteCreated,
        StorageWriteCompleted,
        StorageWriteFailed,
        CoursesRefreshed,
        ScheduleRan,
        ScheduleIdle,
        ScheduleJobFailed,
        PolicyReminder,
    )
}
DURABLE_KINDS = frozenset(kind for kind, model in EVENT_MODELS.items() if model.DURABLE)


class EventNotification(Answer):
    """The params of an `event` notification: one event as a subscriber receives it."""

    id: int | None = None  # the outbox id of a durable event (increasing; a consumer may deduplicate by it)
    kind: str
    version: int = 1
    job_id: str | None = None
    at: float  # Unix time the event was recorded
    data: dict[str, Any]


_ACTIVITY = JobState.ACTIVITY_ARCHIVING
_FINISHING: Mapping[JobState, type[JobEvent]] = {
    JobState.COMPLETED: JobCompleted,
    JobState.FAILED: JobFailed,
    JobState.CANCELED: JobAborted,
    JobState.TIMED_OUT: JobAborted,
}


def transition_events(
    job: JobSummary, from_state: JobState, to_state: JobState, reason: str, *, recoverable: bool | None = None
) -> list[EventPayload]:
    """The events one transition of a job emits, in order; `job` is its summary after the transition.

    Every transition is a `job.state`; entering and leaving the activity stage are activity task events; reaching a
    terminal state is one `job.completed|failed|aborted` (exactly one per ending, however the job got there).
    """
    events: list[EventPayload] = [
        JobStateChanged(job=job, from_state=from_state, to=to_state, reason=reason, recoverable=recoverable)
    ]
    if to_state == _ACTIVITY and from_state != _ACTIVITY:
        events.append(ActivityTaskCreated(job=job))
    elif from_state == _ACTIVITY and to_state == JobState.POST_PROCESSING:
        events.append(ActivityTaskCompleted(job=job))
    elif from_state == _ACTIVITY and to_state == JobState.ERROR:
        events.append(ActivityTaskFailed(job=job, recoverable=bool(recoverable)))
    finishing = _FINISHING.get(to_state)
    if finishing is not None and from_state != to_state:
        events.append(finishing(job=job))
    return events
