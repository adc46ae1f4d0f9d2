"""Domain records of a job as the store keeps them and the socket shows them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from archived.jobs.states import JobState, Outcome


def iso(ts: float | None) -> str | None:
    """A Unix time as an ISO-8601 UTC string, e.g. `2026-11-28T09:00:00Z` (for JSON and humans)."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))  # several times faster than datetime


class _Values(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def summary_of(values: _Values | Mapping[str, Any], initiator: dict[str, Any]) -> dict[str, Any]:
    """The compact view of a job used by `jobs.list` and events, from its column values."""
    return {
        "id": values["id"],
        "driver": values["driver"],
        "course_id": values["course_id"],
        "cmid": values["cmid"],
        "course_name": values["course_name"],
        "activity_name": values["activity_name"],
        "state": str(values["state"]),
        "progress": round(values["progress"], 1),
        "progress_text": values["progress_text"],
        "initiator": initiator,
        "created_at": iso(values["created_at"]),
        "started_at": iso(values["started_at"]),
        "finished_at": iso(values["finished_at"]),
        "run_seconds": round(values["run_seconds"], 1),
        "error_code": values["error_code"],
        "error_message": values["error_message"],
        "deleted": values["deleted_at"] is not None,
    }


@dataclass(frozen=True)
class Initiator:
    """Who asked for a job: an operator (by peer credentials) or a schedule."""

    kind: str  # "operator" | "schedule" | "demo"
    name: str
    uid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": self.kind, "name": self.name, "uid": self.uid}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Initiator:
        """Inverse of `to_dict`."""
        return cls(kind=data["kind"], name=data["name"], uid=data.get("uid"))

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

    def summary(self) -> dict[str, Any]:
        """The compact view used by `jobs.list` and events."""
        return summary_of(self.__dict__, self.initiator.to_dict())

    def detail(self) -> dict[str, Any]:
        """Everything about the job (without timeline, artifacts and logs, which come separately)."""
        data = self.summary()
        data.update(
            settings=self.settings,
            outcome=self.outcome.value if self.outcome else None,
            failed_stage=self.failed_stage.value if self.failed_stage else None,
            retries=self.retries,
            next_retry_at=iso(self.next_retry_at),
            timeout_seconds=self.timeout_seconds,
            updated_at=iso(self.updated_at),
            deleted_at=iso(self.deleted_at),
            fingerprint=self.fingerprint,
        )
        return data


@dataclass(frozen=True)
class Transition:
    """One entry of a job's stage timeline."""

    from_state: JobState
    to_state: JobState
    at: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "from": self.from_state.value,
            "to": self.to_state.value,
            "at": iso(self.at),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LogEntry:
    """One line of a job's log."""

    id: int
    job_id: str
    at: float
    level: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "at": iso(self.at), "level": self.level, "message": self.message}


@dataclass
class StoredLocation:
    """One copy of an archive on one storage target."""

    target: str
    location: str
    size: int
    sha256: str
    stored_at: float
    deleted_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "target": self.target,
            "location": self.location,
            "size": self.size,
            "sha256": self.sha256,
            "stored_at": iso(self.stored_at),
            "deleted_at": iso(self.deleted_at),
        }


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "created_at": iso(self.created_at),
            "retain_until": iso(self.retain_until),
            "locations": [loc.to_dict() for loc in self.locations],
        }
