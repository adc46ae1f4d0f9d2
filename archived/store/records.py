"""What the store keeps about a job: the job record, its timeline, log lines and artifacts with their stored
copies. Each converts to the protocol's view of it (`archived.protocol.jobs`), the one wire form of a job."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, cast

from archived.protocol import jobs as wire
from archived.protocol.base import wire_time
from archived.protocol.states import JobState, Outcome


def iso(ts: float | None) -> str | None:
    """A Unix time as an ISO-8601 UTC string, e.g. `2026-11-28T09:00:00Z` (for JSON and humans)."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))  # several times faster than datetime


def _seconds(timestamp: float | None) -> int | None:
    """A Unix time in whole seconds, as the protocol's times are (validation makes it a UTC time)."""
    return None if timestamp is None else math.floor(timestamp)


@dataclass(frozen=True)
class Initiator:
    """Who asked for a job: an operator (by peer credentials) or a schedule."""

    kind: str  # "operator" | "schedule" | "demo"
    name: str
    uid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as the store keeps it)."""
        return {"kind": self.kind, "name": self.name, "uid": self.uid}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Initiator:
        """Inverse of `to_dict`."""
        return cls(kind=data["kind"], name=data["name"], uid=data.get("uid"))

    def to_wire(self) -> wire.Initiator:
        """The protocol's view."""
        return wire.Initiator(kind=self.kind, name=self.name, uid=self.uid)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass
class JobRecord:
    """One row of the jobs table."""

    id: str
    driver: str
    course_id: int
    cmid: int
    initiator: Initiator
    settings: dict[str, Any]
    state: JobState
    timeout_seconds: float
    created_at: float
    updated_at: float
    course_name: str = ""
    activity_name: str = ""
    outcome: Outcome | None = None
    failed_stage: JobState | None = None
    retries: int = 0
    next_retry_at: float | None = None
    progress: float = 0.0
    progress_text: str = ""
    error_code: str | None = None
    error_message: str | None = None
    error_recoverable: bool = False
    run_seconds: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    deleted_at: float | None = None
    fingerprint: str | None = None

    def summary_fields(self) -> dict[str, Any]:
        """The values of `wire.JobSummary`, JSON-ready, for pydantic to validate in its core: `jobs.list` builds a
        page of summaries at once (`wire.JobPage.model_validate`), the socket's most frequent large answer."""
        return {
            "id": self.id,
            "driver": self.driver,
            "course_id": self.course_id,
            "cmid": self.cmid,
            "course_name": self.course_name,
            "activity_name": self.activity_name,
            "state": self.state.value,
            "progress": round(self.progress, 1),
            "progress_text": self.progress_text,
            "initiator": self.initiator.to_dict(),
            "created_at": _seconds(self.created_at),
            "started_at": _seconds(self.started_at),
            "finished_at": _seconds(self.finished_at),
            "run_seconds": round(self.run_seconds, 1),
            "error_code": self.error_code,
            "error_message": self.error_message,
            "deleted": self.deleted_at is not None,
        }

    def to_summary(self) -> wire.JobSummary:
        """The compact view used by `jobs.list` and job events."""
        return wire.JobSummary.model_validate(self.summary_fields())

    def to_detail(self) -> wire.JobDetail:
        """Everything about the job (without timeline, artifacts and logs, which come separately)."""
        return wire.JobDetail.model_validate(
            {
                **self.summary_fields(),
                "settings": self.settings,
                "outcome": self.outcome,
                "failed_stage": self.failed_stage,
                "retries": self.retries,
                "next_retry_at": _seconds(self.next_retry_at),
                "timeout_seconds": self.timeout_seconds,
                "updated_at": _seconds(self.updated_at),
                "deleted_at": _seconds(self.deleted_at),
                "fingerprint": self.fingerprint,
            }
        )


@dataclass(frozen=True)
class Transition:
    """One entry of a job's stage timeline."""

    from_state: JobState
    to_state: JobState
    at: float
    reason: str = ""

    def to_wire(self) -> wire.TimelineEntry:
        """The protocol's view."""
        entry = {"from": self.from_state, "to": self.to_state, "at": wire_time(self.at), "reason": self.reason}
        return wire.TimelineEntry.model_validate(entry)


@dataclass(frozen=True)
class LogEntry:
    """One line of a job's log."""

    id: int
    job_id: str
    at: float
    level: str
    message: str

    def to_wire(self) -> wire.LogEntry:
        """The protocol's view."""
        level = cast(wire.LogLevel, self.level)  # the store admits only `LOG_LEVELS`
        return wire.LogEntry(id=self.id, at=wire_time(self.at), level=level, message=self.message)


@dataclass
class StoredLocation:
    """One copy of an archive on one storage target."""

    target: str
    location: str
    size: int
    sha256: str
    stored_at: float
    deleted_at: float | None = None

    def to_wire(self) -> wire.StoredLocation:
        """The protocol's view."""
        return wire.StoredLocation(
            target=self.target,
            location=self.location,
            size=self.size,
            sha256=self.sha256,
            stored_at=wire_time(self.stored_at),
            deleted_at=wire_time(self.deleted_at),
        )


@dataclass
class Artifact:
    """A file a job produced (the archive ZIP) and where it is stored."""

    id: int
    job_id: str
    name: str
    size: int
    sha256: str
    created_at: float
    retain_until: float | None
    locations: list[StoredLocation] = field(default_factory=list)

    def to_wire(self) -> wire.Artifact:
        """The protocol's view."""
        return wire.Artifact(
            name=self.name,
            size=self.size,
            sha256=self.sha256,
            created_at=wire_time(self.created_at),
            retain_until=wire_time(self.retain_until),
            locations=[location.to_wire() for location in self.locations],
        )
