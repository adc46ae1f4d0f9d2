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
    ColumnSpec("id", "Job", 8),
    ColumnSpec("state", "State", 12),
    ColumnSpec("activity", "Activity · course"),
    ColumnSpec("started", "Started", 11),
    ColumnSpec("duration", "Took", 6),
    ColumnSpec("progress", "Progress", 10),
)
WIDE = (
    ColumnSpec("id", "Job", 8),
    ColumnSpec("state", "State", 12),
    ColumnSpec("activity", "Activity", weight=3),
    ColumnSpec("course", "Course", weight=2),
    ColumnSpec("initiator", "Initiator", 16),
    ColumnSpec("started", "Started", 11),
    ColumnSpec("duration", "Took", 7),
    ColumnSpec("progress", "Progress", 16),
)


class JobTable(PagedTable[JobSummary]):
    """Jobs, newest first; rows are keyed by job id and updated cell by cell (no flicker)."""

    @dataclass
    class Opened(Message):
        """The user chose a job (enter or click)."""

        job_id: str

    def __init__(self, *, tz: tzinfo | None, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._clock = clock

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Course and initiator get their own columns from `WIDE_FROM` cells on."""
        return WIDE if width >= WIDE_FROM else COMPACT

    # -- contents -----------------------------------------------------------------------------------------

    def show_jobs(self, jobs: Iterable[JobSummary], total: int) -> None:
        """Replace every row (a fresh first page)."""
        self.replace_items([(job.id, job) for job in jobs])
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
        self.remove_item(job_id)

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
        values: dict[str, object] = {
            "id": Text(short_id(job.id), style="bold"),
            "state": short_state_text(job.state),
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
        if job.state in ACTIVE:
            return progress_text(job.progress, max(3, width))
        if job.error_code:
            return plain(job.error_code, "red", one_line=True)
        return Text("")
