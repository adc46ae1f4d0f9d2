"""Jobs: every job, searchable, filtered and sorted by the daemon, paged, updated live; actions on the selected
job, on the marked jobs, or on every job the filter matches (one request, one confirmation with the count)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input

from archived.protocol.jobs import JobSortKey, JobSummary
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import short_id
from archived_tui.job_query import TIME_RANGES, JobQuery
from archived_tui.job_states import CANCELABLE, RETRYABLE, STATE_FILTERS, TERMINAL, StateFilter
from archived_tui.screens import bulk_actions, job_actions
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.widgets.job_table import JobTable
from archived_tui.widgets.live_text import LiveText
from archived_tui.widgets.paged_table import PagedTable

# Offset paging only (a daemon without cursors): pages overlap by this many rows, so a job deleted between two
# page loads does not hide its neighbour.
PAGE_OVERLAP = 5
# Typing in the search box reloads after this pause.
SEARCH_DELAY_SECONDS = 0.4
# After live changes, the table's count is compared with the daemon's this long after the last change.
RESYNC_SECONDS = 2.0
# While events keep coming faster than rows are worth updating, the table is reloaded at most this often.
BURST_RELOAD_SECONDS = 1.0
# More new jobs than this in one batch: one reload places them, rather than a re-sort of the table for each.
NEW_ROWS_LIMIT = 5
SORT_CYCLE = (JobSortKey.CREATED, JobSortKey.FINISHED, JobSortKey.STATE, JobSortKey.ERROR_CODE,
              JobSortKey.COURSE, JobSortKey.ACTIVITY, JobSortKey.INITIATOR, JobSortKey.RUN_TIME)  # fmt: skip


class JobsScreen(DaemonScreen):
    """The jobs table with search, filters, sort and bulk actions."""

    NAV_ID = "jobs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="job.open", key_display="⏎"),
        Binding("n", "new_job", "New", id="jobs.new"),
        Binding("r", "retry", "Retry", id="job.retry"),
        Binding("c", "cancel", "Cancel", id="job.cancel"),
        Binding("d", "delete", "Delete", id="job.delete"),
        Binding("slash", "search", "Search", id="jobs.search", key_display="/"),
        Binding("f", "cycle_filter", "State", id="jobs.filter"),
        Binding("e", "filter_error", "Error code", id="jobs.filter_error", show=False),
        Binding("o", "filter_course", "Course", id="jobs.filter_course", show=False),
        Binding("t", "cycle_time", "Time range", id="jobs.filter_time", show=False),
        Binding("x", "toggle_deleted", "Hide/show deleted", id="jobs.include_deleted", show=False),
        Binding("s", "cycle_sort", "Sort", id="jobs.sort", show=False),
        Binding("S", "reverse_sort", "Reverse sort", id="jobs.reverse", show=False),
        Binding("space", "mark", "Mark", id="jobs.mark", show=False),
        Binding("R", "retry_matching", "Retry all", id="jobs.retry_matching"),
        Binding("C", "cancel_matching", "Cancel all", id="jobs.cancel_matching", show=False),
        Binding("D", "delete_matching", "Delete all", id="jobs.delete_matching", show=False),
        Binding("escape", "clear", "Clear filters", id="jobs.clear", show=False),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.query_state = JobQuery()
        self._next_cursor: str | None = None
        self._search_timer: Timer | None = None
        self._resync_timer: Timer | None = None
        self._burst_timer: Timer | None = None  # a reload is due when it fires (see `_reload_soon`)
        self._burst_pending = False
        self._offered: tuple[bool | None, ...] = ()  # what the footer offers now (see `_refresh_offered`)

    @property
    def state_filter(self) -> StateFilter:
        """The state group shown."""
        return self.query_state.state_filter

    def compose_body(self) -> ComposeResult:
        """Search box and state chips, the filter line, the table."""
        with Horizontal(id="jobs-filter"):
            yield Input(placeholder="/ search", id="jobs-search", compact=True)
            yield LiveText(id="jobs-status", classes="status-line")
        yield LiveText(id="jobs-criteria", classes="status-line")
        yield JobTable(tz=self.ctx.tz, clock=self.ctx.clock, id="jobs-table")

    def on_mount(self) -> None:
        """The table has the focus (keys act on jobs); `/` goes to the search box."""
        super().on_mount()
        self.table.focus()
        self.table.places_new_rows = self.query_state.newest_first
        self.query_one("#jobs-search", Input).value = self.query_state.search
        self._update_status()

    @property
    def table(self) -> JobTable:
        """The jobs table."""
        return self.query_one(JobTable)

    def apply_query(self, query: JobQuery) -> None:
        """Show the jobs `query` matches (from the search box, a filter key, or a jump from a notice)."""
        self.query_state = query
        if not self.is_mounted:  # the first switch to Jobs: mounting loads it with this query
            return
        self.table.places_new_rows = query.newest_first
        search = self.query_one("#jobs-search", Input)
        if search.value != query.search:
            with search.prevent(Input.Changed):
                search.value = query.search
        self.table.clear_marks()
        self._update_status()
        self.request_reload()

    async def reload(self) -> None:
        """The first page of the matching jobs."""
        page = await self.link.api.find_jobs(self._criteria(), limit=self.ctx.page_size)
        self._next_cursor = page.next_cursor
        self.table.show_jobs(page.jobs, page.total)
        self._update_status()

    def _criteria(self) -> dict[str, object]:
        return self.query_state.list_params(self.ctx.clock())

    @on(PagedTable.NeedMore, "#jobs-table")
    def _more(self, event: PagedTable.NeedMore) -> None:
        self.background(partial(self._load_more, event.offset), group="more")

    async def _load_more(self, loaded: int) -> None:
        api = self.link.api
        if self._next_cursor is not None:  # keyset paging: no overlap needed, nothing skipped or shown twice
            call = api.find_jobs(self._criteria(), limit=self.ctx.page_size, cursor=self._next_cursor)
        else:
            offset = max(0, loaded - PAGE_OVERLAP)
            call = api.find_jobs(self._criteria(), limit=self.ctx.page_size + PAGE_OVERLAP, offset=offset)
        page = await self.attempt("Load more jobs", call)
        if page is None:
            self.table.loading_failed()
            return
        self._next_cursor = page.next_cursor
        self.table.append_jobs(page.jobs, page.total)
        self._update_status()

    def apply_events(self, batch: EventBatch) -> None:
        """Changed, new and deleted jobs; progress. A burst (or a batch that arrives late) is not applied row
        by row: the visible page is reloaded instead, one request rather than thousands of row updates."""
        table = self.table
        now = self.ctx.clock()
        new = sum(1 for job in batch.jobs.values() if job.id not in table.items)
        if batch.behind or self._burst_timer is not None or (table.places_new_rows and new > NEW_ROWS_LIMIT):
            self._reload_soon()
            return
        placed_all = True
        for job_id in batch.deleted:
            shown = table.items.get(job_id)
            if shown is not None and self.query_state.include_deleted:
                table.upsert(shown.model_copy(update={"deleted": True}))  # its record stays: so does its row
            else:
                table.remove_job(job_id)
        for job in batch.jobs.values():
            if not self.query_state.matches(job, now):
                table.remove_job(job.id)
            elif job.id in table.items or table.places_new_rows:
                table.upsert(job)
            else:
                placed_all = False  # its place in this order is the daemon's to say
        for job_id, progress in batch.progress.items():
            table.set_progress(job_id, progress)
        if batch.touches_jobs:
            self._update_status()
            self._schedule_resync(immediately=not placed_all)

    def _reload_soon(self) -> None:
        """Reload now, then at most once per `BURST_RELOAD_SECONDS` while changes keep coming in bulk: per-job
        updates are dropped meanwhile (the reload shows their outcome), so input never waits behind them."""
        if self._burst_timer is None:
            self.request_reload()
            self._burst_timer = self.set_timer(BURST_RELOAD_SECONDS, self._burst_over)
        else:
            self._burst_pending = True

    def _burst_over(self) -> None:
        self._burst_timer = None
        if self._burst_pending:
            self._burst_pending = False
            self._reload_soon()
        else:
            self._schedule_resync()

    def _schedule_resync(self, *, immediately: bool = False) -> None:
        """Compare the table's count with the daemon's a moment after the last change; reload if they differ."""
        if self._resync_timer is not None:
            self._resync_timer.stop()
        self._resync_timer = self.set_timer(0.2 if immediately else RESYNC_SECONDS, self._resync)

    def _resync(self) -> None:
        self._resync_timer = None
        self.background(self._compare_counts, group="resync")

    async def _compare_counts(self) -> None:
        page = await self.link.api.find_jobs(self._criteria(), limit=1)
        table = self.table
        shown_all_loaded = table.row_count == len(table.order)
        if (
            page.total != table.total
            or not shown_all_loaded
            or (len(table.order) < min(page.total, self.ctx.page_size))
        ):
            self.request_reload()

    def tick(self) -> None:
        """Running jobs' durations."""
        self.table.tick()

    def _update_status(self) -> None:
        query = self.query_state
        chips = []
        for state_filter in STATE_FILTERS:
            name = state_filter.name
            if state_filter is query.state_filter:
                chips.append(Content.from_markup("[reverse b] $name [/]", name=name))
            else:
                chips.append(Content.from_markup(f"[@click=screen.set_filter('{name}')] $name [/]", name=name))
        self.query_one("#jobs-status", LiveText).update(Content.assemble("State:", *chips))
        table = self.table
        total = table.total or 0
        parts = [f"{table.row_count:,} of {total:,} jobs"]
        if table.marked:
            parts.append(f"{len(table.marked):,} marked")
        parts.append(f"sorted by {query.sort_label()}")
        criteria = query.describe()
        line = Content.from_markup("[dim]$counts[/dim]", counts=" · ".join(parts))
        if criteria:
            line = Content.assemble(Content.from_markup("[b]$criteria[/b]  ", criteria=criteria), line)
        if total == 0 and table.total is not None:
            empty = "no job matches: esc clears search and filters" if query != JobQuery() else "none yet: n starts one"
            line = Content.assemble(line, Content.from_markup("  [dim]— $empty[/dim]", empty=empty))
        self.query_one("#jobs-criteria", LiveText).update(line)

    # -- search and filters -------------------------------------------------------------------------------

    def action_search(self) -> None:
        """Focus the search box (course, activity, job id, error code, initiator)."""
        self.query_one("#jobs-search", Input).focus()

    @on(Input.Changed, "#jobs-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_SECONDS, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        text = self.query_one("#jobs-search", Input).value
        if text != self.query_state.search:
            self.apply_query(self.query_state.with_(search=text))

    @on(Input.Submitted, "#jobs-search")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_now()
        self.table.focus()

    def action_set_filter(self, name: str) -> None:
        """Show only jobs of one state group."""
        self.apply_query(self.query_state.with_(state_filter=next(f for f in STATE_FILTERS if f.name == name)))

    def action_cycle_filter(self) -> None:
        """all → active → failed → completed → canceled → all."""
        index = STATE_FILTERS.index(self.query_state.state_filter)
        self.action_set_filter(STATE_FILTERS[(index + 1) % len(STATE_FILTERS)].name)

    def action_filter_error(self) -> None:
        """Only jobs with the selected job's error code (again: any error code)."""
        query = self.query_state
        if query.error_codes:
            self.apply_query(query.with_(error_codes=()))
        elif (job := self._selected()) is not None:
            if not job.error_code:
                self.notify("The selected job has no error code.", severity="warning", timeout=3)
                return
            self.apply_query(query.with_(error_codes=(job.error_code,)))

    def action_filter_course(self) -> None:
        """Only jobs of the selected job's course (again: every course)."""
        query = self.query_state
        if query.course_id is not None:
            self.apply_query(query.with_(course_id=None, course_label=""))
        elif (job := self._selected()) is not None:
            self.apply_query(query.with_(course_id=job.course_id, course_label=job.course_label))

    def action_cycle_time(self) -> None:
        """Created: any time → last hour → last 24 h → last 7 days."""
        self.apply_query(self.query_state.with_(time_range=(self.query_state.time_range + 1) % len(TIME_RANGES)))

    def action_toggle_deleted(self) -> None:
        """Hide (or show again) jobs whose archives were deleted; their records stay, so they are shown at first."""
        self.apply_query(self.query_state.with_(include_deleted=not self.query_state.include_deleted))

    def action_cycle_sort(self) -> None:
        """Sort by the next column (the daemon sorts; equal values keep job id order)."""
        index = SORT_CYCLE.index(self.query_state.sort)
        self.apply_query(self.query_state.with_(sort=SORT_CYCLE[(index + 1) % len(SORT_CYCLE)]))

    def action_reverse_sort(self) -> None:
        """Reverse the order."""
        self.apply_query(self.query_state.with_(descending=not self.query_state.descending))

    def action_clear(self) -> None:
        """Leave the search box; unmark the marked jobs; with none marked, drop search and filters."""
        if isinstance(self.focused, Input):
            self.table.focus()
        elif self.table.marked:
            self.table.clear_marks()
            self._update_status()
        elif self.query_state != JobQuery():
            self.apply_query(JobQuery())

    # -- actions ------------------------------------------------------------------------------------------

    @on(JobTable.Opened)
    def _opened(self, event: JobTable.Opened) -> None:
        self.open_job(event.job_id)

    @on(JobTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._refresh_offered()

    def _refresh_offered(self) -> None:
        """The footer offers only what the highlighted (or marked) jobs allow; it is rebuilt only when that changes
        (a rebuild makes new footer widgets: not for every row the cursor passes, nor for every reload)."""
        offered = tuple(self.check_action(action, ()) for action in ("retry", "cancel", "delete", "open"))
        if offered != self._offered:
            self._offered = offered
            self.refresh_bindings()

    def open_job(self, job_id: str) -> None:
        """Show a job's detail."""
        self.app.push_screen(JobDetailScreen(self.ctx, job_id))

    def action_open(self) -> None:
        """Open the selected job."""
        if (job := self._selected()) is not None:
            self.open_job(job.id)

    def action_mark(self) -> None:
        """Mark or unmark the selected job (r, c and d then act on every marked job)."""
        if (job := self._selected()) is not None:
            self.table.toggle_mark(job.id)
            self._update_status()
            self._refresh_offered()
            self.table.action_cursor_down()

    def action_new_job(self) -> None:
        """Start a job for an activity given by course id and cmid."""
        self.background(partial(job_actions.new_job, self), group="action", exclusive=False)

    def action_retry(self) -> None:
        """Retry the marked jobs, or the selected one."""
        if marked := self.table.marked_jobs:
            self.background(partial(bulk_actions.retry_jobs, self, marked), group="action", exclusive=False)
        elif (job := self._selected()) is not None:
            self.background(partial(job_actions.retry_job, self, job), group="action", exclusive=False)

    def action_cancel(self) -> None:
        """Cancel the marked jobs, or the selected one (asks first)."""
        if marked := self.table.marked_jobs:
            self.background(partial(bulk_actions.cancel_jobs, self, marked), group="action", exclusive=False)
        elif (job := self._selected()) is not None:
            self.background(partial(job_actions.cancel_job, self, job), group="action", exclusive=False)

    def action_delete(self) -> None:
        """Delete the selected job's archives (shows what goes, asks first); marked jobs: all of them."""
        if marked := self.table.marked_jobs:
            self.background(partial(bulk_actions.delete_jobs, self, marked), group="action", exclusive=False)
        elif (job := self._selected()) is not None:
            self.background(partial(job_actions.delete_job, self, job.id), group="action", exclusive=False)

    def action_retry_matching(self) -> None:
        """Retry every job the search and filters match (one confirmation with the count)."""
        self._matching(bulk_actions.retry_matching)

    def action_cancel_matching(self) -> None:
        """Cancel every job the search and filters match."""
        self._matching(bulk_actions.cancel_matching)

    def action_delete_matching(self) -> None:
        """Delete the archives of every job the search and filters match."""
        self._matching(bulk_actions.delete_matching)

    def _matching(self, action: bulk_actions.MatchingAction) -> None:
        total = self.table.total or 0
        if not total:
            self.notify("No job matches the search and filters.", severity="warning", timeout=3)
            return
        criteria = self.query_state.filter_params(self.ctx.clock())
        work = partial(action, self, criteria, total, self.query_state)
        self.background(work, group="action", exclusive=False)

    def _selected(self) -> JobSummary | None:
        job = self.table.selected
        if job is None:
            self.notify("No job is selected.", severity="warning", timeout=3)
        return job

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what applies: no Retry for a job that cannot be retried, no Cancel for one that ended."""
        if action not in {"retry", "cancel", "delete", "open", "mark"}:
            return True
        if self.focused is not None and isinstance(self.focused, Input):
            return True
        jobs = self.table.marked_jobs or ([self.table.selected] if self.table.selected else [])
        if not jobs:
            return action == "open" or None
        if action == "retry":
            return any(job.state in RETRYABLE for job in jobs)
        if action == "cancel":
            return any(job.state in CANCELABLE for job in jobs)
        if action == "delete":
            return any(job.state in TERMINAL and not job.deleted for job in jobs)
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Filter commands, bulk actions, and actions on the selected job that its state allows."""
        for state_filter in STATE_FILTERS:
            yield SystemCommand(
                f"jobs: show {state_filter.name} jobs",
                "Filter the jobs table by state",
                lambda name=state_filter.name: self.action_set_filter(name),
            )
        yield SystemCommand("jobs: search…", "Course, activity, job id, error code, initiator", self.action_search)
        yield SystemCommand("jobs: hide or show deleted jobs", "Their records stay", self.action_toggle_deleted)
        total = self.table.total or 0
        if total:
            yield SystemCommand(f"jobs: retry all {total:,} matching", "One request", self.action_retry_matching)
            yield SystemCommand(f"jobs: cancel all {total:,} matching", "One request", self.action_cancel_matching)
            yield SystemCommand(f"jobs: delete all {total:,} matching", "One request", self.action_delete_matching)
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
