"""Folding the daemon's event stream into batches the screens apply at a steady rate.

Per job only the newest summary and the newest progress survive a batch (a pending progress update replaces
the previous one, Toolong-style), so 10,000 busy jobs cost one table update per job per batch, not one per
event. Log lines, creations and deletions are kept in order; nothing that changes a job's state is lost,
because the newest summary already carries it.

A batch that changed more jobs than a screen should update row by row (a failure storm), or whose oldest event
is seconds old (the TUI fell behind), says so (`EventBatch.behind`): screens then drop the per-job changes and
reload what they show, which costs one request instead of thousands of row updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from archived.protocol.jobs import JobSummary, LogEntry

FINISHING_KINDS = frozenset({"job.completed", "job.failed", "job.aborted"})
# Beyond this many changed jobs in one batch, reloading the visible rows is cheaper than updating them one by one.
ROW_UPDATE_LIMIT = 100
# A batch whose oldest event is older than this means the TUI fell behind the daemon: resynchronise.
BEHIND_SECONDS = 3.0


@dataclass(frozen=True)
class Progress:
    """The newest progress of a running job."""

    percent: float
    text: str


@dataclass
class EventBatch:
    """Everything that happened since the previous batch, folded per job."""

    jobs: dict[str, JobSummary] = field(default_factory=dict)
    progress: dict[str, Progress] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    finished: list[tuple[str, JobSummary]] = field(default_factory=list)  # (event kind, job)
    logs: dict[str, list[LogEntry]] = field(default_factory=dict)
    storage_writes: list[dict[str, Any]] = field(default_factory=list)
    connection_errors: list[str] = field(default_factory=list)
    courses_refreshed: bool = False  # the daemon read the course overview from Moodle again
    folded: int = 0  # raw events in this batch
    oldest_at: float | None = None  # when the oldest event of the batch happened (the daemon's clock)
    lag: float = 0.0  # seconds between the oldest event and the batch's delivery

    def __bool__(self) -> bool:
        return self.folded > 0

    @property
    def touches_jobs(self) -> bool:
        """Whether any job appeared, changed state or vanished (counts and lists need a refresh)."""
        return bool(self.jobs or self.created or self.deleted)

    @property
    def behind(self) -> bool:
        """Too many jobs changed, or the events are too old, to apply row by row: reload what is shown instead."""
        return len(self.jobs) + len(self.deleted) > ROW_UPDATE_LIMIT or self.lag > BEHIND_SECONDS


class EventBatcher:
    """Collects raw event notifications and hands them out as `EventBatch`es."""

    def __init__(self) -> None:
        self._batch = EventBatch()

    def add(self, event: dict[str, Any]) -> None:
        """Fold one notification (`{kind, job_id, at, data}`) into the pending batch."""
        batch = self._batch
        batch.folded += 1
        at = event.get("at")
        if isinstance(at, int | float) and at > 0 and (batch.oldest_at is None or at < batch.oldest_at):
            batch.oldest_at = float(at)
        kind = str(event.get("kind", ""))
        data = event.get("data") or {}
        job_id = event.get("job_id")
        try:
            if kind in ("job.created", "job.state") or kind in FINISHING_KINDS:
                job = JobSummary.model_validate(data["job"])
                batch.jobs[job.id] = job
                batch.progress.pop(job.id, None)  # the summary is newer than any earlier progress
                if kind == "job.created" and job.id not in batch.created:
                    batch.created.append(job.id)
                if kind in FINISHING_KINDS:
                    batch.finished.append((kind, job))
            elif kind == "job.progress" and job_id:
                batch.progress[job_id] = Progress(float(data.get("progress", 0.0)), str(data.get("text", "")))
            elif kind == "job.log" and job_id:
                batch.logs.setdefault(job_id, []).append(LogEntry.model_validate(data))
            elif kind == "job.deleted" and job_id:
                batch.deleted.append(job_id)
                batch.jobs.pop(job_id, None)
                batch.progress.pop(job_id, None)
            elif kind == "courses.refreshed":
                batch.courses_refreshed = True
            elif kind.startswith("storage.write"):
                batch.storage_writes.append({"job_id": job_id, **data})
            elif kind == "connection.error":
                batch.connection_errors.append(str(data.get("message", data)))
        except (KeyError, TypeError, ValueError, ValidationError):
            # An event this TUI does not understand must not stop the others; a refetch corrects any gap.
            return

    def pending(self) -> bool:
        """Whether a batch is waiting."""
        return bool(self._batch)

    def drain(self, now: float | None = None) -> EventBatch:
        """The pending batch (its `lag` measured at `now`); starts a new one."""
        batch, self._batch = self._batch, EventBatch()
        if now is not None and batch.oldest_at is not None:
            batch.lag = max(0.0, now - batch.oldest_at)
        return batch
