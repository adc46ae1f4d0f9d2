"""Which jobs the Jobs screen shows: search text, filters and sort, as one value sent to the daemon.

The same query pages the table (`jobs.list`), acts on every job it matches (`jobs.*_matching`), and decides
whether a job that changed live still belongs in the table (`matches`, the daemon's rules re-told for one job).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from archived.protocol.jobs import JobSortKey, JobSummary
from archived_tui.job_states import STATE_FILTERS, StateFilter

# Time ranges the `t` key cycles through: (label, seconds back from now; None: any time).
TIME_RANGES: tuple[tuple[str, float | None], ...] = (
    ("any time", None),
    ("last hour", 3600.0),
    ("last 24 h", 86_400.0),
    ("last 7 days", 7 * 86_400.0),
)
SORT_LABELS: dict[JobSortKey, str] = {
    JobSortKey.CREATED: "created",
    JobSortKey.FINISHED: "finished",
    JobSortKey.STATE: "state",
    JobSortKey.COURSE: "course",
    JobSortKey.ACTIVITY: "activity",
    JobSortKey.ERROR_CODE: "error code",
    JobSortKey.INITIATOR: "initiator",
    JobSortKey.RUN_TIME: "run time",
}


@dataclass(frozen=True)
class JobQuery:
    """Search, filters and sort of the Jobs screen; every criterion set must hold."""

    state_filter: StateFilter = STATE_FILTERS[0]
    search: str = ""
    error_codes: tuple[str, ...] = ()
    course_id: int | None = None
    course_label: str = ""  # how the status line names the course
    time_range: int = 0  # index into TIME_RANGES
    include_deleted: bool = True  # a deleted job's record stays, so it stays listed (marked) unless hidden
    sort: JobSortKey = JobSortKey.CREATED
    descending: bool = True

    @classmethod
    def failures(cls, *, error_codes: list[str] | tuple[str, ...] = ()) -> JobQuery:
        """Failed (and timed-out) jobs, optionally only those with one of `error_codes`, newest first."""
        failed = next(f for f in STATE_FILTERS if f.name == "failed")
        return cls(state_filter=failed, error_codes=tuple(error_codes))

    def with_(self, **changes: Any) -> JobQuery:
        """A copy with some criteria changed."""
        return replace(self, **changes)

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the jobs (not the plain "every job" view)."""
        return bool(
            self.state_filter.states is not None
            or self.search
            or self.error_codes
            or self.course_id is not None
            or self.time_range
        )

    def since(self, now: float) -> datetime | None:
        """The start of the time range at `now` (None: any time)."""
        seconds = TIME_RANGES[self.time_range][1]
        return None if seconds is None else datetime.fromtimestamp(now, UTC) - timedelta(seconds=seconds)

    def filter_params(self, now: float) -> dict[str, Any]:
        """The `JobFilter` fields of this query (for `jobs.list` and the bulk methods)."""
        params: dict[str, Any] = {"include_deleted": self.include_deleted}
        if self.state_filter.states is not None:
            params["states"] = sorted(self.state_filter.states)
        if self.search.strip():
            params["search"] = self.search.strip()
        if self.error_codes:
            params["error_codes"] = list(self.error_codes)
        if self.course_id is not None:
            params["course_id"] = self.course_id
        if (since := self.since(now)) is not None:
            params["created_since"] = since
        return params

    def list_params(self, now: float) -> dict[str, Any]:
        """Filter plus sort (for `jobs.list`)."""
        return {**self.filter_params(now), "sort": self.sort, "descending": self.descending}

    def matches(self, job: JobSummary, now: float) -> bool:
        """Whether the daemon would list `job` for this query (used for live changes between reloads)."""
        if job.deleted and not self.include_deleted:
            return False
        if not self.state_filter.matches(job.state):
            return False
        if self.error_codes and (job.error_code or "") not in self.error_codes:
            return False
        if self.course_id is not None and job.course_id != self.course_id:
            return False
        since = self.since(now)
        if since is not None and (job.created_at is None or job.created_at < since):
            return False
        text = self.search.strip().casefold()
        if text:
            haystack = (job.course_name, job.activity_name, job.error_code or "", job.initiator.name)
            if not (job.id.casefold().startswith(text) or any(text in h.casefold() for h in haystack)):
                return False
        return True

    @property
    def newest_first(self) -> bool:
        """Whether new jobs belong at the top (the only order in which the table places new rows itself)."""
        return self.sort == JobSortKey.CREATED and self.descending

    def describe(self) -> str:
        """The criteria beyond the state, in words ("" when none): for the status line and the bulk dialogs."""
        parts = []
        if self.search.strip():
            parts.append(f"“{self.search.strip()}”")
        if self.error_codes:
            parts.append("error " + ", ".join(self.error_codes))
        if self.course_id is not None:
            parts.append(f"course {self.course_label or self.course_id}")
        if self.time_range:
            parts.append(f"created in the {TIME_RANGES[self.time_range][0]}")
        if not self.include_deleted:
            parts.append("deleted hidden")
        return " · ".join(parts)

    def sort_label(self) -> str:
        """E.g. "created ↓"."""
        return f"{SORT_LABELS[self.sort]} {'↓' if self.descending else '↑'}"
