"""Dashboard: jobs running, queued and failed, live progress, recent failures by reason, storage, Moodle, the
daemon itself. Status and storage are re-checked periodically and say how old their check is; while the daemon is
away the panels are greyed and the uptime stands still."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical

from archived.protocol.daemon import DaemonStatus
from archived.protocol.jobs import JobSortKey
from archived.protocol.storage import TargetStatus
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import human_bytes, human_duration, local_time, reachability_text, usage_text
from archived_tui.job_query import JobQuery
from archived_tui.job_states import ACTIVE
from archived_tui.link import ConnectionState
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.screens.render_hosts import render_hosts_line
from archived_tui.widgets.failure_table import FailureTable, group_failures
from archived_tui.widgets.job_table import JobTable, RetryState
from archived_tui.widgets.live_text import LiveText

FAILED_STATES = ("failed", "timed_out")
STATUS_REFRESH_SECONDS = 2.0  # at most this often after job changes (the counts come from the daemon)
STATUS_POLL_SECONDS = 15.0  # the daemon's status (and its Moodle check) is re-read this often anyway
STORAGE_PROBE_SECONDS = 300.0  # every storage target's probe runs again this often
FAILURE_WINDOW_SECONDS = 86_400.0  # recent failures: the last 24 h
FAILURE_SAMPLE = 500  # the newest failures grouped by reason


class DashboardScreen(DaemonScreen):
    """Everything at a glance; enter opens the highlighted active job."""

    NAV_ID = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open job", id="job.open", key_display="⏎"),
        Binding("f", "failures", "Failed jobs", id="dashboard.failures"),
        Binding("t", "test_storage", "Test storage", id="dashboard.test_storage"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.status: DaemonStatus | None = None
        self.targets: list[TargetStatus] = []
        self._storage_checking = False
        self._status_refresh_pending = False
        self._status_at: float | None = None  # when the status was read
        self._storage_at: float | None = None  # when the storage probes last answered
        self._offline_at: float | None = None  # when the connection was lost (the uptime stops there)
        self._failures_shown = 0  # failed jobs the failures panel groups
        self._failures_total = 0

    def compose_body(self) -> ComposeResult:
        """Counts and daemon side by side, active jobs, storage, schedules."""
        with Horizontal(id="dash-top"):
            yield LiveText(id="dash-jobs", classes="panel")
            yield LiveText(id="dash-daemon", classes="panel")
        with Vertical(id="dash-active", classes="panel"):
            yield JobTable(tz=self.ctx.tz, clock=self.ctx.clock, id="dash-active-table")
        with Vertical(id="dash-failures", classes="panel"):
            yield LiveText(id="dash-failures-note")
            yield FailureTable(tz=self.ctx.tz, id="dash-failures-table")
        yield LiveText(id="dash-storage", classes="panel")
        yield LiveText(id="dash-schedules", classes="status-line")

    def on_mount(self) -> None:
        """Panel titles; periodic re-checks."""
        self.query_one("#dash-jobs").border_title = "Jobs"
        self.query_one("#dash-daemon").border_title = "Daemon"
        self.query_one("#dash-active").border_title = "Active jobs"
        self.query_one("#dash-failures").border_title = "Recent failures by reason (24 h)"
        self.query_one("#dash-storage").border_title = "Storage"
        self.set_interval(STATUS_POLL_SECONDS, self._poll_status)
        self.set_interval(STORAGE_PROBE_SECONDS, self._poll_storage)
        self.set_class(not self.link.state.connected, "-offline")

    def _connection_changed(self, state: ConnectionState) -> None:
        """Grey the panels and stop the uptime while the daemon is away."""
        self.set_class(not state.connected, "-offline")
        if state.connected:
            self._offline_at = None
        elif self._offline_at is None:
            self._offline_at = self.ctx.clock()
        self._show_status()
        super()._connection_changed(state)

    def _poll_status(self) -> None:
        if self.is_current and self.link.state.connected and not self._stale:
            self.background(self._refresh_status, group="status")
            if self.targets and not self._storage_checking:
                self.background(self._refresh_storage_counts, group="storage-counts")

    def _poll_storage(self) -> None:
        if self.is_current and self.link.state.connected and not self._stale and not self._storage_checking:
            self.background(self._check_storage, group="storage")

    @property
    def active_table(self) -> JobTable:
        """The table of running and queued jobs."""
        return self.query_one("#dash-active-table", JobTable)

    async def reload(self) -> None:
        """Daemon status and active jobs now; storage probes in the background (they can be slow)."""
        self.background(self._check_storage, group="storage")
        await self._refresh_status()
        page = await self.link.api.list_jobs(states=ACTIVE, limit=self.ctx.page_size)
        self.active_table.show_jobs(page.jobs, page.total)
        self._show_active_count()
        await self._refresh_failures()
        await self._refresh_retry_states()

    def _show_active_count(self) -> None:
        """The panel says how many jobs are active, or that none is (an empty table says nothing)."""
        total = self.active_table.total or 0
        panel = self.query_one("#dash-active")
        panel.border_subtitle = f"{total:,} running or queued" if total else "no job is running or queued"

    async def _refresh_status(self) -> None:
        self._status_refresh_pending = False
        self.status = await self.link.api.daemon_status()
        self._status_at = self.ctx.clock()
        self._show_status()

    async def _refresh_failures(self) -> None:
        """The newest failures of the last 24 h, grouped by reason."""
        query = JobQuery.failures().with_(time_range=2, sort=JobSortKey.FINISHED)
        page = await self.link.api.find_jobs(query.list_params(self.ctx.clock()), limit=FAILURE_SAMPLE)
        groups = group_failures(page.jobs)
        self._failures_shown, self._failures_total = len(page.jobs), page.total
        self.query_one(FailureTable).show_groups(groups)
        self._show_failures_note()

    async def _refresh_retry_states(self) -> None:
        """Jobs waiting to retry: which retry, when, and the error that made them wait."""
        table = self.active_table
        waiting = [job for job in table.items.values() if job.state == "recoverable_error"]
        for job_id in list(table.retry_states):
            if job_id not in {job.id for job in waiting}:
                table.set_retry_state(job_id, None)
        for job in waiting[:20]:  # a few calls at most; the rest show their progress text
            view = await self.link.api.get_job(job.id)
            detail = view.job
            next_at = detail.next_retry_at.timestamp() if detail.next_retry_at else None
            reason = detail.error_message or detail.error_code or "recoverable error"
            limit = self.status.max_retries if self.status is not None else None
            table.set_retry_state(job.id, RetryState(detail.retries, next_at, reason, limit))

    async def _check_storage(self) -> None:
        self._storage_checking = True
        self._show_storage()
        try:
            self.targets = await self.link.api.storage_status(probe=True)
            self._storage_at = self.ctx.clock()
        finally:
            self._storage_checking = False
            self._show_storage()

    def apply_events(self, batch: EventBatch) -> None:
        """Active jobs come and go; counts are refetched (throttled) when jobs change."""
        table = self.active_table
        for job_id in batch.deleted:
            table.remove_job(job_id)
        if batch.behind:  # a burst: reload the active jobs rather than apply thousands of changes
            self._refresh_later()
            return
        for job in batch.jobs.values():
            if job.state in ACTIVE:
                table.upsert(job)
            else:
                table.remove_job(job.id)
        for job_id, progress in batch.progress.items():
            table.set_progress(job_id, progress)
        if batch.touches_jobs:
            self._refresh_later()
        if batch.storage_writes:
            self.background(self._refresh_storage_counts, group="storage-counts")

    def _refresh_later(self) -> None:
        """Counts, failures and waiting retries again, at most every `STATUS_REFRESH_SECONDS`."""
        if not self._status_refresh_pending:
            self._status_refresh_pending = True
            self.set_timer(STATUS_REFRESH_SECONDS, self._refresh_status_later)

    def _refresh_status_later(self) -> None:
        self.background(self._refresh_after_changes, group="status")

    async def _refresh_after_changes(self) -> None:
        await self._refresh_status()
        table = self.active_table
        # Resynchronise by comparing counts: rows missing or too many, or the daemon counts other active jobs.
        rows_off = table.total is not None and len(table.order) != min(table.total, self.ctx.page_size)
        count_off = self.status is not None and (table.total or 0) != _active_count(self.status)
        if rows_off or count_off:
            page = await self.link.api.list_jobs(states=ACTIVE, limit=self.ctx.page_size)
            table.show_jobs(page.jobs, page.total)
        self._show_active_count()
        await self._refresh_failures()
        await self._refresh_retry_states()

    async def _refresh_storage_counts(self) -> None:
        """Counts, and each target's last probe (whoever ran it: "test now" on the Storage screen too)."""
        targets = await self.link.api.storage_status(probe=False)
        if self._storage_checking:
            return  # a probe of this screen is running: its answer is newer
        self.targets = targets
        checked = [t.checked_at.timestamp() for t in targets if t.checked_at is not None]
        if checked:
            self._storage_at = max(checked)
        self._show_storage()

    def on_screen_resume(self) -> None:
        """Back on the dashboard: storage as last tested, wherever that was."""
        super().on_screen_resume()
        if self.link.state.connected and not self._stale and self.targets:
            self.background(self._refresh_storage_counts, group="storage-counts")

    def tick(self) -> None:
        """Uptime, running durations, the ages of the checks."""
        self.active_table.tick()
        if self.status is not None:
            self._show_status()
        if self.targets and not self._storage_checking:
            self._show_storage()

    def _age(self, at: float | None) -> str:
        """'12 s ago'."""
        if at is None:
            return "never"
        age = self.ctx.clock() - at
        return "just now" if age < 1 else f"{human_duration(age)} ago"

    def _show_failures_note(self) -> None:
        note = self.query_one("#dash-failures-note", LiveText)
        table = self.query_one(FailureTable)
        if not self._failures_total:
            note.update(Text("No job failed in the last 24 h.", style="dim"))
        else:
            sampled = self._failures_total > self._failures_shown
            more = f" (the newest {self._failures_shown:,} grouped)" if sampled else ""
            note.update(Text.assemble((f"{self._failures_total:,} failed", "bold red"), more,
                                      ("  f or ⏎ shows them in Jobs", "dim")))  # fmt: skip
        table.display = bool(self._failures_total)

    # -- rendering ----------------------------------------------------------------------------------------

    def _show_status(self) -> None:
        status = self.status
        if status is None:
            return
        recent = status.jobs_last_24h
        queued = status.jobs.get("queued", 0)
        failed = sum(recent.get(s, 0) for s in FAILED_STATES)
        jobs = Text.assemble(
            ("▶ ", "blue"), (f"{status.running:,}", "bold"), " running   ",
            ("… ", "cyan"), (f"{queued:,}", "bold"), " queued\n",
            ("✖ ", "red"), (f"{failed:,}", "bold red" if failed else "bold"), " failed   ",
            ("✔ ", "green"), (f"{recent.get('completed', 0):,}", "bold"), " completed\n",
            (f"in the last 24 h · {sum(status.jobs.values()):,} in all", "dim"),
        )  # fmt: skip
        self.query_one("#dash-jobs", LiveText).update(jobs)
        until = self._offline_at if self._offline_at is not None else self.ctx.clock()
        uptime = human_duration(max(0.0, until - status.started_at))
        daemon = Text.assemble(
            ("archived ", "dim"), (status.version, "bold"), (f" (pid {status.pid})", "dim"),
            ("  up ", "dim"), uptime, ("  draining" if status.draining else "", "bold yellow"),
            (f"  (away since {self._age(self._offline_at)})" if self._offline_at is not None else "", "bold"), "\n",
        )  # fmt: skip
        store = status.store
        if not store.writable:  # jobs wait until it can be written again: the operator must free space or fix it
            daemon.append_text(plain("store: cannot be written", "bold red"))
            if store.problem:
                daemon.append_text(plain(f" {store.problem}", "red"))
            daemon.append("\n")
        moodle = status.moodle
        if moodle is None:
            daemon.append("Moodle: not configured\n([moodle] in the daemon's configuration)", style="dim")
        else:
            daemon.append("Moodle ", style="dim")
            daemon.append_text(plain(moodle.url or "?", "bold"))
            if moodle.release:
                daemon.append_text(plain(f" {moodle.release.split(' (')[0]}", "dim"))  # without "(Build: …)"
            daemon.append("\n")
            daemon.append_text(reachability_text(moodle.reachable, moodle.latency_ms))
            if moodle.error:
                daemon.append_text(plain(f" {moodle.error}", "red"))
            if moodle.checked_at:
                daemon.append(f" · checked {self._age(moodle.checked_at.timestamp())}", "dim")
        render_hosts = render_hosts_line(status.render)  # None with the local backend: nothing new to say
        if render_hosts is not None:
            daemon.append("\n")
            daemon.append_text(render_hosts)
        self.query_one("#dash-daemon", LiveText).update(daemon)
        schedules = status.schedules
        if not schedules:
            line = Text("Next runs: no schedules reported by the daemon", style="dim")
        else:
            line = Text("Next runs: ", style="dim")
            for i, run in enumerate(sorted(schedules, key=lambda r: (r.next_run_at is None, r.next_run_at))[:4]):
                line.append(" · " if i else "")
                line.append(run.name, style="bold")
                line.append(f" {local_time(run.next_run_at, self.ctx.tz)}")
        self.query_one("#dash-schedules", LiveText).update(line)

    def _show_storage(self) -> None:
        panel = self.query_one("#dash-storage", LiveText)
        if not self.targets:
            note = "checking the storage targets …" if self._storage_checking else "no storage target answered"
            panel.update(Text(note, style="dim"))
            return
        width = max(len(t.name) for t in self.targets)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, target in enumerate(self.targets):
            text.append("\n" if i else "")
            text.append(target.name.ljust(width + 2), style="bold")
            if self._storage_checking:
                status = Text("… testing", style="cyan")
            elif not target.probed:
                status = Text("? not tested", style="dim")
            elif target.healthy:
                status = Text.assemble(("● ok", "green"), (f" {target.latency_ms or 0:.1f} ms", "dim"))
            else:
                status = Text("✖ unreachable" if not target.reachable else "✖ probe fails", style="bold red")
            status.pad_right(16 - status.cell_len)
            text.append_text(status)
            used = None
            if target.total_bytes is not None and target.free_bytes is not None:
                used = target.total_bytes - target.free_bytes
            if target.probed and not target.healthy:
                room = max(12, (panel.content_size.width or 76) - width - 2 - 16)
                message = target.message if len(target.message) <= room else target.message[: room - 1] + "…"
                text.append_text(plain(message, "red"))
            elif target.total_bytes is None:
                text.append("free space not reported", style="dim")
            else:
                usage = usage_text(used, target.total_bytes, width=10)
                usage.pad_right(17 - usage.cell_len)
                text.append_text(usage)
                text.append(f"{human_bytes(target.free_bytes)} free", style="dim")
        panel.update(text)
        panel.border_subtitle = f"tested {self._age(self._storage_at)}" if self._storage_at is not None else ""

    # -- actions ------------------------------------------------------------------------------------------

    @on(FailureTable.Chosen)
    def _reason_chosen(self, event: FailureTable.Chosen) -> None:
        self.show_failed_jobs(event.error_code)

    def action_failures(self) -> None:
        """The failed jobs in Jobs: those of the highlighted reason, if the failures table has the focus."""
        table = self.query_one(FailureTable)
        group = table.selected if table.has_focus else None
        self.show_failed_jobs(group.code if group is not None and group.code != "(no error code)" else None)

    def show_failed_jobs(self, error_code: str | None) -> None:
        """Switch to Jobs showing failed jobs (of one error code)."""
        query = JobQuery.failures(error_codes=[error_code] if error_code else [])
        self.app.switch_mode("jobs")
        screen = self.app.screen
        if isinstance(screen, JobsScreen):
            screen.apply_query(query)

    @on(JobTable.Opened)
    def _opened(self, event: JobTable.Opened) -> None:
        self.app.push_screen(JobDetailScreen(self.ctx, event.job_id))

    def action_open(self) -> None:
        """Open the highlighted active job."""
        job = self.active_table.selected
        if job is not None:
            self.app.push_screen(JobDetailScreen(self.ctx, job.id))

    def action_test_storage(self) -> None:
        """Run every storage target's probe now."""
        self.background(self._check_storage, group="storage")

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Dashboard commands."""
        yield SystemCommand(
            "storage: test every target now", "Write, read and delete a probe", self.action_test_storage
        )
        job = self.active_table.selected
        if job is not None:
            yield SystemCommand(f"job: open {job.id[:8]} ({job.activity_label})", "Its detail", self.action_open)


def _active_count(status: DaemonStatus) -> int:
    """Jobs the daemon counts as active (what the active table should hold)."""
    return sum(n for state, n in status.jobs.items() if state in ACTIVE)
