"""The method catalogue of protocol version 1: each method's name, parameter and result models, and whether only
an operator may call it. The daemon binds a handler to each; clients call through them (`encode`/`decode`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from archived.protocol.archives import (
    ArchiveChunk,
    ArchivePage,
    ArchiveTransfer,
    GetArchiveParams,
    ListArchivesParams,
    ReadArchiveParams,
)
from archived.protocol.attachments import AttachParams, AttachUpload, AttachWriteParams, AttachWriteResult
from archived.protocol.audit import AuditPage, AuditParams
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
from archived.protocol.drivers import DriverList, DriverRef, SettingsDescription
from archived.protocol.jobs import (
    BulkDeleteParams,
    BulkDeleteResult,
    BulkParams,
    BulkResult,
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
from archived.protocol.people import PeopleExportParams, PeopleExportResult, PeopleFindParams, PeopleFindResult
from archived.protocol.renewal import RetimestampParams, RetimestampResult
from archived.protocol.retention import (
    RetentionDeleteParams,
    RetentionResult,
    RetentionRunParams,
    TombstonePage,
    TombstonesParams,
)
from archived.protocol.schedules import (
    EditScheduleParams,
    EnableParams,
    PolicyReport,
    RunPage,
    RunParams,
    RunsParams,
    ScheduleList,
    ScheduleParams,
    ScheduleRef,
    ScheduleRun,
    ScheduleView,
)
from archived.protocol.session import (
    HelloParams,
    HelloResult,
    SubscribeParams,
    SubscribeResult,
    UnsubscribeParams,
    UnsubscribeResult,
)
from archived.protocol.storage import StorageStatusParams, StorageStatusResult

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class MethodSpec(Generic[P, R]):
    """One socket method as both sides know it."""

    name: str
    params: type[P]
    result: type[R]
    description: str
    mutating: bool = False  # only operators may call it

    def encode(self, params: P) -> dict[str, Any]:
        """The request's `params` object (only what the caller set: the daemon applies the defaults)."""
        return params.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def decode(self, raw: Any) -> R:
        """The typed result of an answer."""
        return self.result.model_validate(raw)


HELLO = MethodSpec("hello", HelloParams, HelloResult, "protocol version negotiation; must come first")
DAEMON_STATUS = MethodSpec(
    "daemon.status", NoParams, DaemonStatus, "version, uptime, job counts, Moodle reachability, the store's health"
)
JOBS_CREATE = MethodSpec("jobs.create", CreateJobParams, CreateJobResult, "queue a new archive job", mutating=True)
JOBS_LIST = MethodSpec("jobs.list", ListJobsParams, JobPage, "jobs by filter and search, sorted, a page at a time")
JOBS_GET = MethodSpec("jobs.get", JobRef, JobView, "one job with its timeline and artifacts")
JOBS_LOGS = MethodSpec("jobs.logs", LogsParams, LogPage, "a page of a job's log")
JOBS_CANCEL = MethodSpec("jobs.cancel", JobRef, JobResult, "cancel a job", mutating=True)
JOBS_RETRY = MethodSpec("jobs.retry", JobRef, JobResult, "retry a failed/canceled job", mutating=True)
JOBS_DELETE = MethodSpec("jobs.delete", DeleteParams, DeleteResult, "delete a job's archives", mutating=True)
JOBS_ATTACH = MethodSpec(
    "jobs.attach",
    AttachParams,
    AttachUpload,
    "add a file to a job before it is packed (bytes: jobs.attach_write)",
    mutating=True,
)
JOBS_ATTACH_WRITE = MethodSpec(
    "jobs.attach_write", AttachWriteParams, AttachWriteResult, "a chunk of a file for jobs.attach", mutating=True
)
JOBS_RETRY_MATCHING = MethodSpec(
    "jobs.retry_matching",
    BulkParams,
    BulkResult,
    "retry every failed, canceled or timed-out job the filter matches",
    mutating=True,
)
JOBS_CANCEL_MATCHING = MethodSpec(
    "jobs.cancel_matching", BulkParams, BulkResult, "cancel every active job the filter matches", mutating=True
)
JOBS_DELETE_MATCHING = MethodSpec(
    "jobs.delete_matching",
    BulkDeleteParams,
    BulkDeleteResult,
    "delete the archives of every ended job the filter matches",
    mutating=True,
)
SETTINGS_DESCRIBE = MethodSpec("settings.describe", DriverRef, SettingsDescription, "a driver's settings and presets")
DRIVERS_LIST = MethodSpec("drivers.list", NoParams, DriverList, "installed activity drivers")
STORAGE_STATUS = MethodSpec("storage.status", StorageStatusParams, StorageStatusResult, "storage targets and probes")
EVENTS_SUBSCRIBE = MethodSpec("events.subscribe", SubscribeParams, SubscribeResult, "receive event notifications")
EVENTS_UNSUBSCRIBE = MethodSpec("events.unsubscribe", UnsubscribeParams, UnsubscribeResult, "stop event notifications")
COURSES_TREE = MethodSpec("courses.tree", NoParams, CourseTree, "the category tree with course counts")
COURSES_LIST = MethodSpec("courses.list", ListCoursesParams, CoursePage, "courses by category, text, badge")
COURSES_SHOW = MethodSpec("courses.show", CourseRefParams, CourseView, "a course's activities and their badges")
COURSES_REFRESH = MethodSpec(
    "courses.refresh", RefreshParams, RefreshResult, "fetch the overview from Moodle again (force: operators only)"
)
ARCHIVES_LIST = MethodSpec(
    "archives.list", ListArchivesParams, ArchivePage, "stored archives by course, activity and target, newest first"
)
# Operators only: these hand over the archive itself (students' answers), not just facts about it.
ARCHIVES_GET = MethodSpec(
    "archives.get",
    GetArchiveParams,
    ArchiveTransfer,
    "fetch an archive from a target that holds it and verify it; read it with archives.read",
    mutating=True,
)
ARCHIVES_READ = MethodSpec(
    "archives.read", ReadArchiveParams, ArchiveChunk, "a chunk of a verified archive (archives.get)", mutating=True
)
RETENTION_RUN = MethodSpec(
    "retention.run", RetentionRunParams, RetentionResult, "delete the archives whose retention is over", mutating=True
)
RETENTION_DELETE = MethodSpec(
    "retention.delete",
    RetentionDeleteParams,
    RetentionResult,
    "delete a job's archives from every target (before their date only with force; audited)",
    mutating=True,
)
RETENTION_TOMBSTONES = MethodSpec(
    "retention.tombstones", TombstonesParams, TombstonePage, "what remains of deleted archives", mutating=True
)
CONNECTORS_LIST = MethodSpec(
    "connectors.list", NoParams, ConnectorList, "event connectors: filters, lanes, deliveries, dead letters"
)
CONNECTORS_DEAD_LETTERS = MethodSpec(
    "connectors.dead_letters", DeadLettersParams, DeadLetterPage, "events a connector gave up on, newest first"
)
CONNECTORS_REDELIVER = MethodSpec(
    "connectors.redeliver", RedeliverParams, DeliveryAttempt, "try a dead letter once more, now", mutating=True
)
CONNECTORS_TEST = MethodSpec(
    "connectors.test", ConnectorTestParams, DeliveryAttempt, "send a test event through a connector", mutating=True
)
PEOPLE_FIND = MethodSpec(
    "people.find", PeopleFindParams, PeopleFindResult, "every archive holding a person's data (audited)", mutating=True
)
PEOPLE_EXPORT = MethodSpec(
    "people.export",
    PeopleExportParams,
    PeopleExportResult,
    "only one person's files from every archive holding them, verified, read with archives.read (audited)",
    mutating=True,
)
ARCHIVES_RETIMESTAMP = MethodSpec(
    "archives.retimestamp",
    RetimestampParams,
    RetimestampResult,
    "renew stored archives' timestamps, each renewal stored next to the archive on every target",
    mutating=True,
)
AUDIT_LIST = MethodSpec(
    "audit.list", AuditParams, AuditPage, "who looked up or exported whose data, who deleted early", mutating=True
)
SCHEDULES_LIST = MethodSpec("schedules.list", NoParams, ScheduleList, "schedules with their next and last run")
SCHEDULES_RUNS = MethodSpec("schedules.runs", RunsParams, RunPage, "a schedule's runs: what each selected and skipped")
SCHEDULES_ADD = MethodSpec("schedules.add", ScheduleParams, ScheduleView, "a new schedule", mutating=True)
SCHEDULES_EDIT = MethodSpec(
    "schedules.edit", EditScheduleParams, ScheduleView, "change a schedule's cron, time zone or rule", mutating=True
)
SCHEDULES_ENABLE = MethodSpec(
    "schedules.enable", EnableParams, ScheduleView, "turn a schedule on or off", mutating=True
)
SCHEDULES_REMOVE = MethodSpec("schedules.remove", ScheduleRef, ScheduleList, "delete a schedule", mutating=True)
SCHEDULES_RUN = MethodSpec(
    "schedules.run", RunParams, ScheduleRun, "run a schedule now, or dry-run it (creates no job)", mutating=True
)
POLICY_REPORT = MethodSpec("policy.report", NoParams, PolicyReport, "activities that break a mandatory policy rule")

METHODS: tuple[MethodSpec[Any, Any], ...] = (
    HELLO,
    DAEMON_STATUS,
    JOBS_CREATE,
    JOBS_LIST,
    JOBS_GET,
    JOBS_LOGS,
    JOBS_CANCEL,
    JOBS_RETRY,
    JOBS_DELETE,
    JOBS_ATTACH,
    JOBS_ATTACH_WRITE,
    JOBS_RETRY_MATCHING,
    JOBS_CANCEL_MATCHING,
    JOBS_DELETE_MATCHING,
    SETTINGS_DESCRIBE,
    DRIVERS_LIST,
    STORAGE_STATUS,
    EVENTS_SUBSCRIBE,
    EVENTS_UNSUBSCRIBE,
    COURSES_TREE,
    COURSES_LIST,
    COURSES_SHOW,
    COURSES_REFRESH,
    ARCHIVES_LIST,
    ARCHIVES_GET,
    ARCHIVES_READ,
    CONNECTORS_LIST,
    CONNECTORS_DEAD_LETTERS,
    CONNECTORS_REDELIVER,
    CONNECTORS_TEST,
    RETENTION_RUN,
    RETENTION_DELETE,
    RETENTION_TOMBSTONES,
    PEOPLE_FIND,
    PEOPLE_EXPORT,
    ARCHIVES_RETIMESTAMP,
    AUDIT_LIST,
    SCHEDULES_LIST,
    SCHEDULES_RUNS,
    SCHEDULES_ADD,
    SCHEDULES_EDIT,
    SCHEDULES_ENABLE,
    SCHEDULES_REMOVE,
    SCHEDULES_RUN,
    POLICY_REPORT,
)
