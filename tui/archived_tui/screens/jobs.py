"""Jobs: every job, newest first, filterable by state, updated live; actions on the selected job."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content

from archived.protocol.jobs import JobSummary
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import short_id
from archived_tui.job_states import CANCELABLE, RETRYABLE, STATE_FILTERS, TERMINAL, StateFilter
from archived_tui.screens import job_actions
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.widgets.job_table import JobTable
from archived_tui.widgets.live_text import LiveText
from archived_tui.widgets.paged_table import PagedTable

# Pages overlap by this many rows, so a job deleted between two page loads does not hide its neighbour.
PAGE_OVERLAP = 5


class JobsScreen(DaemonScreen):
    """The jobs table with a state filter."""

    NAV_ID = "jobs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="job.open", key_display="⏎"),
        Binding("n", "new_job", "New", id="jobs.new"),
        Binding("r", "retry", "Retry", id="job.retry"),
        Binding("c", "cancel", "Cancel", id="job.cancel"),
        Binding("d", "delete", "Delete", id="job.delete"),
        Binding("f", "cycle_filter", "Filter", id="jobs.filter"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.state_filter: StateFilter = STATE_FILTERS[0]

    def compose_body(self) -> ComposeResult:
        """Filter line and table."""
        yield LiveText(id="jobs-status", classes="status-line")
        yield JobTable(tz=self.ctx.tz, clock=self.ctx.clock, id="jobs-table")

    @property
    def table(self) -> JobTable:
        """The jobs table."""
        return self.query_one(JobTable)

    async def reload(self) -> None:
        """The first page of the filtered jobs."""
        page = await self.link.api.list_jobs(states=self.state_filter.states, limit=self.ctx.page_size)
        self.table.show_jobs(page.jobs, page.total)
        self._update_status()

    @on(PagedTable.NeedMore, "#jobs-table")
    def _more(self, event: PagedTable.NeedMore) -> None:
        self.background(partial(self._load_more, event.offset), group="more")

    async def _load_more(self, loaded: int) -> None:
        offset = max(0, loaded - PAGE_OVERLAP)
        page = await self.attempt(
            "Load more jobs",
            self.link.api.list_jobs(
                states=self.state_filter.states, limit=self.ctx.page_size + PAGE_OVERLAP, offset=offset
            ),
        )
        if page is None:
            self.table.loading_failed()
            return
        self.table.append_jobs(page.jobs, page.total)
        self._update_status()

    def apply_events(self, batch: EventBatch) -> None:
        """Changed, new and deleted jobs; progress."""
        table = self.table
        for job_id in batch.deleted:
            table.remove_job(job_id)
        for job in batch.jobs.values():
            if job.deleted or not self.state_filter.matches(job.state):
                table.remove_job(job.id)
            else:
                table.upsert(job)
        for job_id, progress in batch.progress.items():
            table.set_progress(job_id, progress)
        if batch.touches_jobs:
            self._update_status()

    def tick(self) -> None:
        """Running jobs' durations."""
        self.table.tick()

    def _update_status(self) -> None:
        chips = []
        for state_filter in STATE_FILTERS:
            name = state_filter.name
            if state_filter is self.state_filter:
                chips.append(Content.from_markup("[reverse b] $name [/]", name=name))
            else:
                chips.append(Content.from_markup(f"[@click=screen.set_filter('{name}')] $name [/]", name=name))
        table = self.table
        shown = f"{table.row_count:,} of {table.total or 0:,} jobs"
        self.query_one("#jobs-status", LiveText).update(
            Content.assemble("State:", *chips, Content.from_markup("  [dim]$shown[/dim]", shown=shown))
        )

    # -- actions ------------------------------------------------------------------------------------------

    def action_set_filter(self, name: str) -> None:
        """Show only jobs of one state group."""
        self.state_filter = next(f for f in STATE_FILTERS if f.name == name)
        self._update_status()
        self.request_reload()

    def action_cycle_filter(self) -> None:
        """all → active → failed → completed → canceled → all."""
        index = STATE_FILTERS.index(self.state_filter)
        self.action_set_filter(STATE_FILTERS[(index + 1) % len(STATE_FILTERS)].name)

    @on(JobTable.Opened)
    def _opened(self, event: JobTable.Opened) -> None:
        self.open_job(event.job_id)

    def open_job(self, job_id: str) -> None:
        """Show a job's detail."""
        self.app.push_screen(JobDetailScreen(self.ctx, job_id))

    def action_open(self) -> None:
        """Open the selected job."""
        if (job := self._selected()) is not None:
            self.open_job(job.id)

    def action_new_job(self) -> None:
        """Start a job for an activity given by course id and cmid."""
        self.background(partial(job_actions.new_job, self), group="action", exclusive=False)

    def action_retry(self) -> None:
        """Retry the selected job."""
        if (job := self._selected()) is not None:
            self.background(partial(job_actions.retry_job, self, job), group="action", exclusive=False)

    def action_cancel(self) -> None:
        """Cancel the selected job (asks first)."""
        if (job := self._selected()) is not None:
            self.background(partial(job_actions.cancel_job, self, job), group="action", exclusive=False)

    def action_delete(self) -> None:
        """Delete the selected job's archives (shows what goes, asks first)."""
        if (job := self._selected()) is not None:
            self.background(partial(job_actions.delete_job, self, job.id), group="action", exclusive=False)

    def _selected(self) -> JobSummary | None:
        job = self.table.selected
        if job is None:
            self.notify("No job is selected.", severity="warning", timeout=3)
        return job

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Filter commands, and actions on the selected job that its state allows."""
        for state_filter in STATE_FILTERS:
            yield SystemCommand(
                f"jobs: show {state_filter.name} jobs",
                "Filter the jobs table by state",
                lambda name=state_filter.name: self.action_set_filter(name),
            )
        yield SystemCommand("job: new archive job…", "Archive an activity by course id and cmid", self.action_new_job)
        job = self.table.selected
        if job is None:
            return
        label = f"{short_id(job.id)} ({job.activity_label})"
        yield SystemCommand(f"job: open {label}", "Timeline, log and artifacts", self.action_open)
        if job.state in RETRYABLE:
            yield SystemCommand(f"job: retry {label}", "Queue the job again", self.action_retry)
        if job.state in CANCELABLE:
            yield SystemCommand(f"job: cancel {label}", "Stop the job; it ends as canceled", self.action_cancel)
        if job.state in TERMINAL and not job.deleted:
            yield SystemCommand(f"job: delete {label}", "Delete its stored archives", self.action_delete)
