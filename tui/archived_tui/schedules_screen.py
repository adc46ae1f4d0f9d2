"""Schedules: every schedule with its next run and its last run's outcome; run one now, dry-run it, switch it on or
off; the panel shows what the highlighted schedule's last run (or the dry run asked for) selected and skipped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.schedules import EnableParams, RunParams, RunsParams, ScheduleRun, ScheduleView
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import local_time
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.live_text import LiveText

COLUMNS = ("Schedule", "On", "Cron", "Zone", "Next run", "Last run", "Outcome")
PANEL_LINES = 40  # selected and skipped activities shown in the panel (the CLI's `schedules runs` has them all)


class SchedulesScreen(DaemonScreen):
    """The schedules table and the highlighted schedule's last (or dry) run."""

    NAV_ID = "schedules"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_now", "Run now", id="schedules.run_now"),
        Binding("d", "dry_run", "Dry run", id="schedules.dry_run"),
        Binding("e", "switch_on_off", "Enable/disable", id="schedules.toggle"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.schedules: list[ScheduleView] = []
        self.shown_run: ScheduleRun | None = None

    def compose_body(self) -> ComposeResult:
        """Status line, table, run panel."""
        yield LiveText(id="schedules-status", classes="status-line")
        yield DataTable(id="schedules-table", cursor_type="row", zebra_stripes=True)
        yield LiveText(id="schedules-run", classes="panel")

    def on_mount(self) -> None:
        """Columns and the panel's title."""
        self.query_one("#schedules-table", DataTable).add_columns(*COLUMNS)
        self.query_one("#schedules-run").border_title = "Last run"

    async def reload(self) -> None:
        """Every schedule, then the highlighted one's last run."""
        answer = await self.link.api.request(rpc.SCHEDULES_LIST, NoParams())
        self.schedules = answer.schedules
        table = self.query_one("#schedules-table", DataTable)
        row = table.cursor_row
        table.clear()
        for s in self.schedules:
            table.add_row(
                plain(s.name), "yes" if s.enabled else "no", plain(s.cron), plain(s.timezone),
                local_time(s.next_run_at.timestamp(), self.ctx.tz) if s.next_run_at else "-",
                local_time(s.last_run_at.timestamp(), self.ctx.tz) if s.last_run_at else "never",
                plain(s.last_outcome), key=s.name,
            )  # fmt: skip
        if self.schedules:
            table.move_cursor(row=min(max(row, 0), len(self.schedules) - 1))
        status = Text(f"{len(self.schedules)} schedule(s)", style="bold")
        if not self.schedules:
            status.append(" · none yet (archived schedules add NAME --cron …)", style="dim")
        self.query_one("#schedules-status", LiveText).update(status)
        await self._show_last_run()

    @property
    def selected(self) -> ScheduleView | None:
        """The highlighted schedule."""
        table = self.query_one("#schedules-table", DataTable)
        if not self.schedules or table.cursor_row < 0 or table.cursor_row >= len(self.schedules):
            return None
        return self.schedules[table.cursor_row]

    @on(DataTable.RowHighlighted, "#schedules-table")
    def _highlighted(self) -> None:
        self.background(self._show_last_run, group="run-panel")

    async def _show_last_run(self) -> None:
        schedule = self.selected
        if schedule is None:
            self._show_run(None, "")
            return
        runs = await self.link.api.request(rpc.SCHEDULES_RUNS, RunsParams(name=schedule.name, limit=1))
        self._show_run(runs.runs[0] if runs.runs else None, "Last run")

    def _show_run(self, run: ScheduleRun | None, title: str) -> None:
        panel = self.query_one("#schedules-run", LiveText)
        self.shown_run = run
        panel.border_title = title or "Last run"
        if run is None:
            panel.update(Text("not run yet", style="dim"))
            return
        text = Text(f"{local_time(run.started_at.timestamp(), self.ctx.tz)} ({run.trigger}) ", style="bold")
        text.append_text(plain(run.outcome, "bold red" if run.error else ""))
        text.append("\n")
        lines = 0
        for s in run.selected:
            if lines < PANEL_LINES:
                text.append("+ ", style="green")
                text.append_text(plain(f"course {s.course_id} · {s.type} {s.cmid} {s.name}"))
                text.append_text(plain(f"  job {s.job_id[:8]}" if s.job_id else f"  {s.error}", "dim"))
                text.append("\n")
            lines += 1
        for k in run.skipped:
            if lines < PANEL_LINES:
                text.append("- ", style="yellow")
                what = f"course {k.course_id}" + (f" · {k.type} {k.cmid} {k.name}" if k.cmid is not None else "")
                text.append_text(plain(what))
                text.append(f"  {k.reason}", style="yellow")
                text.append_text(plain(f" {k.detail}", "dim"))
                text.append("\n")
            lines += 1
        if lines > PANEL_LINES:
            text.append(f"… {lines - PANEL_LINES} more (archived schedules runs {run.schedule} --details)", "dim")
        panel.update(text)

    def action_run_now(self) -> None:
        """Run the highlighted schedule now: it creates its jobs."""
        self._run(dry_run=False)

    def action_dry_run(self) -> None:
        """Show what the highlighted schedule would select now, creating nothing."""
        self._run(dry_run=True)

    def _run(self, *, dry_run: bool) -> None:
        schedule = self.selected
        if schedule is None:
            self.notify("No schedule is highlighted.", severity="warning")
            return
        what = "Dry run" if dry_run else "Run now"

        async def run() -> None:
            self.query_one("#schedules-status", LiveText).update(Text(f"{what}: {schedule.name} …", style="cyan"))
            result = await self.attempt(what, self.link.api.request(rpc.SCHEDULES_RUN, RunParams(name=schedule.name,
                                                                                         dry_run=dry_run)))  # fmt: skip
            if result is None:
                return
            self.notify(f"{schedule.name}: {result.outcome}", title=what, severity="error" if result.error else
                        "information")  # fmt: skip
            await self.reload()
            self._show_run(result, what)

        self.background(run, group="schedule-run")

    def action_switch_on_off(self) -> None:
        """Switch the highlighted schedule on or off."""
        schedule = self.selected
        if schedule is None:
            return

        async def toggle() -> None:
            params = EnableParams(name=schedule.name, enabled=not schedule.enabled)
            if await self.attempt("Enable/disable", self.link.api.request(rpc.SCHEDULES_ENABLE, params)) is not None:
                await self.reload()

        self.background(toggle, group="schedule-toggle")

    def apply_events(self, batch: EventBatch) -> None:
        """A job created by a schedule may mean a run happened: read the schedules again."""
        if batch.created:
            self.background(self.reload, group="schedules-reload")

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Run or dry-run the highlighted schedule."""
        schedule = self.selected
        if schedule is not None:
            yield SystemCommand(f"schedule: run {schedule.name} now", "Create its jobs now", self.action_run_now)
            yield SystemCommand(f"schedule: dry-run {schedule.name}", "What it would select", self.action_dry_run)
