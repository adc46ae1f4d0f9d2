"""Dashboard: jobs running, queued and failed, live progress, storage, Moodle, the daemon itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical

from archived.protocol.daemon import DaemonStatus
from archived.protocol.storage import TargetStatus
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import human_bytes, human_duration, local_time, reachability_text, usage_text
from archived_tui.job_states import ACTIVE
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.widgets.job_table import JobTable
from archived_tui.widgets.live_text import LiveText

FAILED_STATES = ("failed", "timed_out")
STATUS_REFRESH_SECONDS = 2.0  # at most this often after job changes (the counts come from the daemon)


class DashboardScreen(DaemonScreen):
    """Everything at a glance; enter opens the highlighted active job."""

    NAV_ID = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open job", id="job.open", key_display="⏎"),
        Binding("t", "test_storage", "Test storage", id="dashboard.test_storage"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.status: DaemonStatus | None = None
        self.targets: list[TargetStatus] = []
        self._storage_checking = False
        self._status_refresh_pending = False

    def compose_body(self) -> ComposeResult:
        """Counts and daemon side by side, active jobs, storage, schedules."""
        with Horizontal(id="dash-top"):
            yield LiveText(id="dash-jobs", classes="panel")
            yield LiveText(id="dash-daemon", classes="panel")
        with Vertical(id="dash-active", classes="panel"):
            yield JobTable(tz=self.ctx.tz, clock=self.ctx.clock, id="dash-active-table")
        yield LiveText(id="dash-storage", classes="panel")
        yield LiveText(id="dash-schedules", classes="status-line")

    def on_mount(self) -> None:
        """Panel titles."""
        self.query_one("#dash-jobs").border_title = "Jobs"
        self.query_one("#dash-daemon").border_title = "Daemon"
        self.query_one("#dash-active").border_title = "Active jobs"
        self.query_one("#dash-storage").border_title = "Storage"

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

    async def _refresh_status(self) -> None:
        self._status_refresh_pending = False
        self.status = await self.link.api.daemon_status()
        self._show_status()

    async def _check_storage(self) -> None:
        self._storage_checking = True
        self._show_storage()
        try:
            self.targets = await self.link.api.storage_status(probe=True)
        finally:
            self._storage_checking = False
            self._show_storage()

    def apply_events(self, batch: EventBatch) -> None:
        """Active jobs come and go; counts are refetched (throttled) when jobs change."""
        table = self.active_table
        for job_id in batch.deleted:
            table.remove_job(job_id)
        for job in batch.jobs.values():
            if job.state in ACTIVE:
                table.upsert(job)
            else:
                table.remove_job(job.id)
        for job_id, progress in batch.progress.items():
            table.set_progress(job_id, progress)
        if batch.touches_jobs and not self._status_refresh_pending:
            self._status_refresh_pending = True
            self.set_timer(STATUS_REFRESH_SECONDS, self._refresh_status_later)
        if batch.storage_writes:
            self.background(self._refresh_storage_counts, group="storage-counts")

    def _refresh_status_later(self) -> None:
        self.background(self._refresh_status, group="status")

    async def _refresh_storage_counts(self) -> None:
        counts = {t.name: t for t in await self.link.api.storage_status(probe=False)}
        self.targets = [
            t.model_copy(update={"archives": counts[t.name].archives, "bytes": counts[t.name].bytes})
            if t.name in counts
            else t
            for t in self.targets
        ]
        self._show_storage()

    def tick(self) -> None:
        """Uptime and running durations."""
        self.active_table.tick()
        if self.status is not None:
            self._show_status()

    # -- rendering ----------------------------------------------------------------------------------------

    def _show_status(self) -> None:
        status = self.status
        if status is None:
            return
        recent = status.jobs_last_24h
        queued = status.jobs.get("queued", 0)
        failed = sum(recent.get(s, 0) for s in FAILED_STATES)
        jobs = Text.assemble(
            ("▶ ", "blue"), (f"{status.running}", "bold"), " running   ",
            ("… ", "cyan"), (f"{queued}", "bold"), " queued\n",
            ("✖ ", "red"), (f"{failed}", "bold red" if failed else "bold"), " failed   ",
            ("✔ ", "green"), (f"{recent.get('completed', 0)}", "bold"), " completed\n",
            (f"in the last 24 h · {sum(status.jobs.values()):,} in all", "dim"),
        )  # fmt: skip
        self.query_one("#dash-jobs", LiveText).update(jobs)
        uptime = human_duration(max(0.0, self.ctx.clock() - status.started_at))
        daemon = Text.assemble(
            ("archived ", "dim"), (status.version, "bold"), (f" (pid {status.pid})", "dim"),
            ("  up ", "dim"), uptime, ("  draining" if status.draining else "", "bold yellow"), "\n",
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
                daemon.append(f" · checked {local_time(moodle.checked_at, self.ctx.tz, seconds=True)[11:]}", "dim")
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

    # -- actions ------------------------------------------------------------------------------------------

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
