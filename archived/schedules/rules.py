"""A schedule's selection rule applied to the activities of the course overview (pure: no Moodle, no store).

Every activity in the rule's courses and categories is either selected or skipped with a reason, so that a run can
say later exactly why an activity was or was not archived.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from archived.protocol.schedules import SelectionRule

DAY = 86400.0


class SkipReason(StrEnum):
    """Why a run left an activity."""

    TYPE_NOT_SELECTED = "type_not_selected"
    UNSUPPORTED = "unsupported"
    NOT_ARCHIVABLE = "not_archivable"
    NO_CLOSE_DATE = "no_close_date"
    NOT_CLOSED = "not_closed"
    CLOSED_RECENTLY = "closed_recently"
    UNCHANGED = "unchanged"
    RUNNING_JOB = "running_job"
    OVER_CAP = "over_cap"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    COURSE_UNREADABLE = "course_unreadable"


@dataclass(frozen=True)
class Candidate:
    """One activity of the overview as a rule sees it."""

    course_id: int
    category_id: int | None
    cmid: int
    name: str
    modname: str
    supported: bool
    archivable: bool
    reason: str | None
    badge: str  # archived | changed | never | unsupported | not_ready
    closes_at: float | None
    course_name: str = ""
    driver: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A candidate the rule left, with a reason code and words."""

    candidate: Candidate
    reason: SkipReason
    detail: str = ""


@dataclass
class Selection:
    """The outcome of applying a rule: selected in order, and everything skipped."""

    selected: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def select(
    candidates: list[Candidate],
    rule: SelectionRule,
    *,
    now: float,
    running: Collection[int] = (),
    allowed_categories: Collection[int] | None = None,
) -> Selection:
    """Apply `rule` to `candidates`: `running` holds cmids with an unfinished job, `allowed_categories` the policy's
    allow-list with every subcategory (None: every category)."""
    outcome = Selection()
    for candidate in candidates:
        reason = _skip_reason(candidate, rule, now=now, running=running, allowed=allowed_categories)
        if reason is not None:
            outcome.skipped.append(Skipped(candidate, *reason))
        elif rule.max_jobs is not None and len(outcome.selected) >= rule.max_jobs:
            outcome.skipped.append(Skipped(candidate, SkipReason.OVER_CAP, f"the rule allows {rule.max_jobs} per run"))
        else:
            outcome.selected.append(candidate)
    return outcome


def _skip_reason(
    c: Candidate, rule: SelectionRule, *, now: float, running: Collection[int], allowed: Collection[int] | None
) -> tuple[SkipReason, str] | None:
    if rule.types and c.modname not in rule.types:
        return SkipReason.TYPE_NOT_SELECTED, f"a {c.modname}; the rule takes {', '.join(rule.types)}"
    if not c.supported:
        return SkipReason.UNSUPPORTED, c.reason or f"no archiving driver for {c.modname}"
    if allowed is not None and c.category_id not in allowed:
        return SkipReason.CATEGORY_NOT_ALLOWED, f"category {c.category_id} is not in policy.categories"
    if rule.closed_days is not None:
        if c.closes_at is None:
            return SkipReason.NO_CLOSE_DATE, "no close or due date set; the rule asks for one"
        if c.closes_at > now:
            return SkipReason.NOT_CLOSED, f"closes in {(c.closes_at - now) / DAY:.1f} day(s)"
        if now - c.closes_at < rule.closed_days * DAY:
            return SkipReason.CLOSED_RECENTLY, (
                f"closed {(now - c.closes_at) / DAY:.1f} day(s) ago; the rule waits {rule.closed_days:g}"
            )
    if not c.archivable:
        return SkipReason.NOT_ARCHIVABLE, c.reason or "not archivable now"
    if rule.changed_only and c.badge not in ("never", "changed"):
        return SkipReason.UNCHANGED, "archived and unchanged since"
    if c.cmid in running:
        return SkipReason.RUNNING_JOB, "a job for it has not ended yet"
    return None
