"""Job endings as the operator hears of them: grouped per burst into one notice, not one toast per job.

A Moodle outage at night fails hundreds of jobs within seconds; a toast per job froze the TUI and said nothing a
count would not. Endings fall into a group that stays open while they keep coming (it closes `QUIET_SECONDS`
after the last one); the group is one notice, shown and then updated in place: "37 jobs failed in the last
10 s — moodle_access_denied ×37 — F to see them". A group of one job reads as before: its id, names and error.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from archived.protocol.jobs import JobSummary
from archived_tui.format import short_id

# A group closes after this many seconds without a job ending.
QUIET_SECONDS = 10.0
# Error codes named in a notice; the rest are counted as "… N more".
NAMED_CODES = 3
FAILED_STATES = frozenset({"failed", "timed_out"})

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """What one toast says."""

    title: str
    message: str
    severity: Severity


@dataclass
class EndingGroup:
    """Jobs that ended close together."""

    first_at: float
    last_at: float
    states: Counter[str] = field(default_factory=Counter)  # final state → jobs
    error_codes: Counter[str] = field(default_factory=Counter)  # among the failed ones
    jobs: list[JobSummary] = field(default_factory=list)  # kept while the group is small (for a single job)

    @property
    def count(self) -> int:
        """Jobs that ended in this group."""
        return sum(self.states.values())

    @property
    def failed(self) -> int:
        """Jobs that failed or timed out."""
        return sum(n for state, n in self.states.items() if state in FAILED_STATES)

    def add(self, job: JobSummary, at: float) -> None:
        """One more ending."""
        self.last_at = max(self.last_at, at)
        self.states[job.state.value] += 1
        if job.state.value in FAILED_STATES:
            self.error_codes[job.error_code or "unknown"] += 1
        if len(self.jobs) < 2:
            self.jobs.append(job)

    def notice(self, now: float) -> Notice:
        """The toast for this group as it stands at `now`."""
        if self.count == 1:
            return _single(self.jobs[0])
        span = _span(now - self.first_at)
        failed = self.failed
        others = _others(self.states)
        if failed:
            codes = ", ".join(f"{code} ×{n:,}" for code, n in self.error_codes.most_common(NAMED_CODES))
            if len(self.error_codes) > NAMED_CODES:
                codes += f", … {len(self.error_codes) - NAMED_CODES} more"
            message = f"{failed:,} {_jobs(failed)} failed in the last {span} — {codes} — F to see them"
            if others:
                message += f"\nAlso: {others}."
            return Notice(f"{failed:,} {_jobs(failed)} failed", message, "error")
        message = f"{self.count:,} jobs ended in the last {span}: {others}."
        severity: Severity = "warning" if self.states.get("canceled") else "information"
        return Notice(f"{self.count:,} jobs ended", message, severity)


class EndingDigest:
    """Collects job endings into groups (see the module docstring)."""

    def __init__(self, quiet_seconds: float = QUIET_SECONDS) -> None:
        self._quiet = quiet_seconds
        self.group: EndingGroup | None = None

    def add(self, job: JobSummary, now: float) -> tuple[EndingGroup, bool]:
        """File one ending; returns its group and whether the group is new."""
        group = self.group
        fresh = group is None or now - group.last_at > self._quiet
        if fresh or group is None:
            group = self.group = EndingGroup(first_at=now, last_at=now)
        group.add(job, now)
        return group, fresh


def _single(job: JobSummary) -> Notice:
    state = job.state.value
    title = {"completed": "Job completed", "failed": "Job failed", "timed_out": "Job timed out",
             "canceled": "Job canceled"}.get(state, "Job ended")  # fmt: skip
    message = f"{short_id(job.id)} {job.activity_label} ({job.course_label})"
    if job.error_message:
        message += f": {job.error_message}"
    severity: Severity = "information" if state == "completed" else "warning" if state == "canceled" else "error"
    return Notice(title, message, severity)


def _others(states: Counter[str]) -> str:
    names = {"completed": "completed", "canceled": "canceled"}
    parts = [f"{n:,} {names[state]}" for state, n in sorted(states.items()) if state in names]
    return ", ".join(parts)


def _span(seconds: float) -> str:
    """'10 s', '3 min'."""
    whole = max(1, math.ceil(seconds))
    return f"{whole} s" if whole < 120 else f"{whole // 60} min"


def _jobs(n: int) -> str:
    return "job" if n == 1 else "jobs"
