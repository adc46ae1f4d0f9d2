"""Finding jobs in the store: a `jobs.list` filter, sort and keyset cursor (and the bulk actions' filter) as SQL.

A sort orders by one expression and then by the job id, so that jobs with equal values keep one order (stable)
and a page can continue right after the last job of the one before (keyset paging: `(value, id)` beyond the last
one's), which neither skips nor repeats a job while jobs are added, as OFFSET would.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from archived.protocol.jobs import JobFilter, JobSortKey

# A job's columns, in the order `archived.store.jobs` reads them.
JOB_COLUMNS = (
    "id, driver, course_id, cmid, course_name, activity_name, initiator, settings, state, outcome, "
    "failed_stage, retries, next_retry_at, progress, progress_text, error_code, error_message, error_recoverable, "
    "run_seconds, timeout_seconds, created_at, updated_at, started_at, finished_at, deleted_at, fingerprint"
)
# The same for lists: listing rows never need the settings, and skipping their JSON halves the cost of a page.
LIST_COLUMNS = JOB_COLUMNS.replace(" settings,", " '{}' AS settings,")

# What each sort key orders by. Missing values sort as the smallest (an unfinished job has finished "never").
SORT_EXPRESSIONS: dict[JobSortKey, str] = {
    JobSortKey.CREATED: "created_at",
    JobSortKey.FINISHED: "COALESCE(finished_at, 0)",
    JobSortKey.STATE: "state",
    JobSortKey.COURSE: "course_name COLLATE NOCASE",
    JobSortKey.ACTIVITY: "activity_name COLLATE NOCASE",
    JobSortKey.ERROR_CODE: "COALESCE(error_code, '')",
    JobSortKey.INITIATOR: "initiator_name COLLATE NOCASE",
    JobSortKey.RUN_TIME: "run_seconds",
}

# What a search looks in: the `search_text` column, written by the store with each change of a job's names or error
# code (`searched_text`), so that a search over 10,000 jobs runs in SQLite's C rather than calling Python per row.
_SEPARATOR = "\x1f"  # between the parts, so that a search cannot match across two of them


class InvalidCursor(ValueError):
    """A `cursor` that is not one this daemon gave out for the same sort."""


def fold(text: str | None) -> str:
    """Text as the search compares it: case folded (ß and SS, Ä and ä match)."""
    return (text or "").casefold()


def searched_text(course_name: str, activity_name: str, error_code: str | None, initiator_name: str) -> str:
    """A job's `search_text`: its course and activity names, error code and initiator's name, case folded."""
    return fold(_SEPARATOR.join((course_name, activity_name, error_code or "", initiator_name)))


def where_clause(criteria: JobFilter) -> tuple[str, list[Any]]:
    """`WHERE …` (or nothing) and its parameters for a filter."""
    clauses: list[str] = []
    params: list[Any] = []
    if criteria.search and criteria.search.strip():
        text = fold(criteria.search.strip())
        clauses.append("(substr(id, 1, ?) = ? OR instr(search_text, ?) > 0)")
        params += [len(text), text, text]
    if criteria.states is not None:
        clauses.append(f"state IN ({', '.join('?' * len(criteria.states))})")
        params += [state.value for state in criteria.states]
    if criteria.error_codes is not None:
        clauses.append(f"error_code IN ({', '.join('?' * len(criteria.error_codes))})")
        params += criteria.error_codes
    if criteria.course_id is not None:
        clauses.append("course_id = ?")
        params.append(criteria.course_id)
    if criteria.cmid is not None:
        clauses.append("cmid = ?")
        params.append(criteria.cmid)
    if criteria.created_since is not None:
        clauses.append("created_at >= ?")
        params.append(criteria.created_since.timestamp())
    if criteria.created_until is not None:
        clauses.append("created_at < ?")
        params.append(criteria.created_until.timestamp())
    if not criteria.include_deleted:
        clauses.append("deleted_at IS NULL")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


@dataclass(frozen=True)
class SortOrder:
    """A sort key and its direction, with the job id as the tie-breaker."""

    key: JobSortKey = JobSortKey.CREATED
    descending: bool = True

    @property
    def expression(self) -> str:
        """The SQL expression sorted by."""
        return SORT_EXPRESSIONS[self.key]

    def order_by(self) -> str:
        """`ORDER BY …` of the sort."""
        direction = "DESC" if self.descending else "ASC"
        return f"ORDER BY {self.expression} {direction}, id {direction}"

    def after(self, cursor: str) -> tuple[str, list[Any]]:
        """The condition (and its parameters) for the jobs that come after the cursor's job in this order."""
        value, job_id = self.decode(cursor)
        return f"({self.expression}, id) {'<' if self.descending else '>'} (?, ?)", [value, job_id]

    def cursor(self, value: Any, job_id: str) -> str:
        """The cursor of the page after the job with this sort value and id (opaque to clients)."""
        raw = json.dumps([self.key.value, self.descending, value, job_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, str]:
        """The sort value and job id a cursor of this order carries; `InvalidCursor` for any other text."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            key, descending, value, job_id = json.loads(raw)
        except (ValueError, TypeError, binascii.Error):
            raise InvalidCursor("cursor: not a cursor of jobs.list (pass next_cursor as it was given)") from None
        if key != self.key.value or descending is not self.descending:
            raise InvalidCursor("cursor: it belongs to another sort; start again without a cursor")
        if not isinstance(job_id, str) or not isinstance(value, str | int | float):
            raise InvalidCursor("cursor: not a cursor of jobs.list (pass next_cursor as it was given)")
        return value, job_id


# The order of `jobs.list` when none is asked for.
NEWEST_FIRST = SortOrder()
