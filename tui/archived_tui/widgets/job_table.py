"""The jobs table: one row per job, updated in place from the event stream, loaded page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text
from textual.message import Message

from archived.protocol.jobs import JobSummary
from archived_tui.batching import Progress
from archived_tui.format import compact_time, human_duration, progress_text, short_id, short_state_text
from archived_tui.job_states import ACTIVE
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec
from archived_tui.widgets.paged_table import PagedTable

WIDE_FROM = 110  # table width from which course and initiator get their own columns

COMPACT = (
    ColumnSpec("id", "Job", 9),
    ColumnSpec("state", "State", 12),
    ColumnSpec("activity", "Activity · course"),
    ColumnSpec("started", "Started", 11),
    ColumnSpec("duration", "Took", 6),
    ColumnSpec("progress", "Progress", 10),
)
# Wide: the error code of a failed job (in the progress column) gets room; the initiator gives some.
WIDE = (
    ColumnSpec("id", "Job", 9),
    ColumnSpec("state", "State", 12),
    ColumnSpec("activity", "Activity", weight=3),
    ColumnSpec("course", "Course", weight=2),
    ColumnSpec("initiator", "Initiator", 14),
    ColumnSpec("started", "Started", 11),
    ColumnSpec("duration", "Took", 7),
    ColumnSpec("progress", "Progress · error", 24),
)
MARK = "•"  # after the id of a job marked for a bulk action


@dataclass(frozen=True)
class RetryState:
    """A job waiting to retry after a recoverable error: which retry comes, when, and why."""

    retries: int
    next_at: float | None
    reason: str
    max_retries: int | None = None  # the daemon's limit, when it says (daemon.status)


class JobTable(PagedTable[JobSummary]):
    """Jobs, newest first (or in the daemon's order); rows are keyed by job id and updated cell by cell.

    Jobs can be marked (space) for an action on several at once. A new job is only placed by the table itself
    while it is sorted newest first (`places_new_rows`); in another order the screen reloads instead.
    """

    @dataclass
    class Opened(Message):
        """The user chose a job (enter or click)."""

        job_id: str

    def __init__(self, *, tz: tzinfo | None, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._clock = clock
        self.marked: set[str] = set()
        self.places_new_rows = True
        self.retry_states: dict[str, RetryState] = {}  # shown in the progress column while a job waits to retry

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Course and initiator get their own columns from `WIDE_FROM` cells on."""
        return WIDE if width >= WIDE_FROM else COMPACT

    # -- contents -----------------------------------------------------------------------------------------

    def show_jobs(self, jobs: Iterable[JobSummary], total: int) -> None:
        """Replace every row (a fresh first page); marks of jobs still shown stay."""
        self.replace_items([(job.id, job) for job in jobs])
        self.marked &= self.items.keys()
        self.finished_loading(total)

    def append_jobs(self, jobs: Iterable[JobSummary], total: int) -> None:
        """Add a further page at the end (rows already shown are skipped: pages can overlap)."""
        for job in jobs:
            if job.id not in self.items:
                self.add_item(job.id, job)
        self.finished_loading(total)

    def upsert(self, job: JobSummary) -> None:
        """Show a new or changed job: cells change in place; a new job goes to its place by creation time."""
        if job.id in self.items:
            self.update_item(job.id, job)
            return
        if not self.places_new_rows:
            return
        key = self._sort_key(job)
        index = next((i for i, other in enumerate(self.order) if self._sort_key(self.items[other]) < key), None)
        if index is None:
            if self.has_more:
                return  # it belongs to a page not loaded yet; it comes with that page
            index = len(self.order)
        if self.total is not None:
            self.total += 1
        self.insert_item(index, job.id, job)

    def remove_job(self, job_id: str) -> None:
        """Drop a job's row (deleted, or no longer matching the filter)."""
        if job_id in self.items and self.total:
            self.total -= 1
        self.marked.discard(job_id)
        self.remove_item(job_id)

    def toggle_mark(self, job_id: str) -> None:
        """Mark or unmark a shown job for an action on several jobs."""
        if job_id not in self.items:
            return
        self.marked ^= {job_id}
        self.update_item(job_id, self.items[job_id])

    def clear_marks(self) -> None:
        """Unmark every job."""
        marked, self.marked = self.marked, set()
        for job_id in marked & self.items.keys():
            self.update_item(job_id, self.items[job_id])

    @property
    def marked_jobs(self) -> list[JobSummary]:
        """The marked jobs, in table order."""
        return [self.items[job_id] for job_id in self.order if job_id in self.marked]

    def set_progress(self, job_id: str, progress: Progress) -> None:
        """A newer progress of a shown job."""
        job = self.items.get(job_id)
        if job is not None:
            self.update_item(job_id, job.model_copy(update={"progress": progress.percent,
                                                            "progress_text": progress.text}))  # fmt: skip

    def tick(self) -> None:
        """Advance the durations of running jobs."""
        if not self.fitted:
            return
        for job_id in self.order:
            job = self.items[job_id]
            if job.state in ACTIVE and job.started_at is not None:
                self.update_cell(job_id, "duration", self._duration(job))
            if job_id in self.retry_states:
                self.update_cell(job_id, "progress", self._progress(job))

    def set_retry_state(self, job_id: str, state: RetryState | None) -> None:
        """Show (or stop showing) when a waiting job retries and why."""
        if state is None:
            self.retry_states.pop(job_id, None)
        else:
            self.retry_states[job_id] = state
        if job_id in self.items:
            self.update_item(job_id, self.items[job_id])

    @property
    def selected(self) -> JobSummary | None:
        """The job under the cursor."""
        return self.selected_item

    def on_data_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        """Enter or click on a row opens the job."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Opened(str(event.row_key.value)))

    # -- cells --------------------------------------------------------------------------------------------

    def cells(self, job: JobSummary) -> list[object]:
        """The row of one job."""
        wide = any(c.key == "course" for c in self.fitted)
        activity = job.activity_label if wide else f"{job.activity_label} · {job.course_label}"
        marked = job.id in self.marked
        values: dict[str, object] = {
            "id": Text(short_id(job.id) + (MARK if marked else ""), style="bold reverse" if marked else "bold"),
            "state": Text("⌫ deleted", style="dim") if job.deleted else short_state_text(job.state),
            "activity": plain(activity, one_line=True),
            "course": plain(job.course_label, one_line=True),
            "initiator": plain(job.initiator, one_line=True),
            "started": compact_time(job.started_at or job.created_at, self._tz),
            "duration": self._duration(job),
            "progress": self._progress(job),
        }
        return [values[column.key] for column in self.fitted]

    def _sort_key(self, job: JobSummary) -> tuple[float, str]:
        return (job.created_at.timestamp() if job.created_at else self._clock(), job.id)

    def _duration(self, job: JobSummary) -> str:
        if job.state in ACTIVE and job.started_at is not None:
            return human_duration(max(0.0, self._clock() - job.started_at.timestamp()))
        return human_duration(job.run_seconds) if job.started_at else ""

    def _progress(self, job: JobSummary) -> Text:
        width = self.column_width("progress") - 5
        retry = self.retry_states.get(job.id)
        if retry is not None and job.state == "recoverable_error":
            when = ""
            if retry.next_at is not None:
                when = f" in {human_duration(max(0.0, retry.next_at - self._clock()))}"
            limit = f"/{retry.max_retries}" if retry.max_retries is not None else ""
            return plain(f"retry {retry.retries}{limit}{when}, {retry.reason}", "yellow", one_line=True)
        if job.state in ACTIVE:
            return progress_text(job.progress, max(3, width))
        if job.error_code:
            return plain(job.error_code, "red", one_line=True)
        return Text("")
