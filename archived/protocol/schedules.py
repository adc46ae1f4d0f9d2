"""`schedules.*` and `policy.report`: schedules with their selection rules, their runs, and the policy report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime


class SelectionRule(Params):
    """Which activities a schedule's run selects; every list that is empty means "any"."""

    categories: list[int] = Field(default_factory=list, description="course categories, subcategories included")
    courses: list[int] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list, description="activity types (Moodle module names: quiz, assign)")
    closed_days: float | None = Field(
        default=None, ge=0, description="only activities closed (quiz close, assignment due) at least this many days"
    )
    changed_only: bool = Field(default=False, description="only activities never archived or changed since")
    max_jobs: int | None = Field(default=None, ge=1, description="at most this many jobs per run")


class ScheduleParams(Params):
    """A schedule as `schedules.add` creates it."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    cron: str = Field(description='five crontab fields; day of week by name ("0 2 * * mon-fri")')
    timezone: str = Field(default="UTC", description="an IANA time zone such as Europe/Berlin")
    rule: SelectionRule = Field(default_factory=SelectionRule)
    enabled: bool = True


class EditScheduleParams(Params):
    """What `schedules.edit` changes (fields left out stay as they are)."""

    name: str
    cron: str | None = None
    timezone: str | None = None
    rule: SelectionRule | None = None


class ScheduleRef(Params):
    """One schedule by name."""

    name: str


class EnableParams(Params):
    """Turn a schedule on or off."""

    name: str
    enabled: bool


class RunParams(Params):
    """Run a schedule now; a dry run records what it would select and creates no job."""

    name: str
    dry_run: bool = False


class RunsParams(Params):
    """A schedule's runs, newest first."""

    name: str
    limit: int = Field(default=20, ge=1, le=500)


class RunTrigger(StrEnum):
    """What started a run."""

    CRON = "cron"
    MISSED = "missed"  # runs missed while the daemon was down, coalesced into one
    RUN_NOW = "run-now"
    DRY_RUN = "dry-run"


class ScheduleView(Answer):
    """One schedule with its next run and its last run's outcome."""

    name: str
    cron: str
    timezone: str
    rule: SelectionRule
    enabled: bool
    next_run_at: UtcTime | None = None
    last_run_at: UtcTime | None = None
    last_outcome: str = Field(default="", description="the last run's one-line outcome")
    last_selected_at: UtcTime | None = Field(default=None, description="the last run that selected something")


class ScheduleList(Answer):
    """Every schedule."""

    schedules: list[ScheduleView]


class SelectedActivity(Answer):
    """An activity a run selected (and the job it created, unless a dry run)."""

    course_id: int
    cmid: int
    name: str = ""
    type: str = ""
    job_id: str | None = None
    error: str = Field(default="", description="why its job could not be created")


class SkippedActivity(Answer):
    """An activity a run looked at and left, and why."""

    course_id: int
    cmid: int | None = None
    name: str = ""
    type: str = ""
    reason: str = Field(description="a code: not_archivable, not_closed, closed_recently, unchanged, running_job, …")
    detail: str = ""


class ScheduleRun(Answer):
    """One run of a schedule: what it selected, what it skipped and why."""

    id: int
    schedule: str
    trigger: RunTrigger
    dry_run: bool
    started_at: UtcTime
    finished_at: UtcTime | None = None
    missed: int = Field(default=0, description="cron times missed while the daemon was down (run once for all)")
    selected: list[SelectedActivity] = Field(default_factory=list)
    skipped: list[SkippedActivity] = Field(default_factory=list)
    error: str = ""
    outcome: str = ""


class RunPage(Answer):
    """A schedule's runs, newest first."""

    runs: list[ScheduleRun]


class PolicyBreach(Answer):
    """An activity a mandatory rule says must be archived and is not (or not since it changed)."""

    rule: str = Field(description="the rule, as configured: category, type, within days")
    course_id: int
    cmid: int
    name: str = ""
    type: str = ""
    closed_at: UtcTime | None = None
    due_at: UtcTime = Field(description="since when the rule is broken")
    badge: str = Field(default="", description="never or changed")


class PolicyReport(Answer):
    """The category allow-list and every breach of a mandatory rule."""

    allowed_categories: list[int] = Field(default_factory=list, description="empty: every category")
    rules: list[str] = Field(default_factory=list)
    breaches: list[PolicyBreach] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="courses that could not be read")
