"""One job: what it archives, its state and progress, the stage timeline, the live log, the artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import TabbedContent, TabPane

from archived.protocol.jobs import Completeness, JobDetail, JobSummary, JobView
from archived.protocol.states import JobState
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import compact_time, human_duration, local_time, progress_text, short_id, state_text
from archived_tui.job_states import ACTIVE, CANCELABLE, RETRYABLE, TERMINAL
from archived_tui.safe_text import plain
from archived_tui.screens import job_actions
from archived_tui.screens.archive_retrieval import retrieve_archive, stored_artifact
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.file_attaching import attach_files, may_attach
from archived_tui.widgets.artifacts import ArtifactList
from archived_tui.widgets.live_text import LiveText
from archived_tui.widgets.log_tail import LEVELS, LogTail
from archived_tui.widgets.timeline import Timeline


class JobDetailScreen(DaemonScreen):
    """Pushed over the screen it was opened from; escape goes back."""

    NAV_ID = "jobs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="job.back"),
        Binding("r", "retry", "Retry", id="job.retry"),
        Binding("c", "cancel", "Cancel", id="job.cancel"),
        Binding("d", "delete", "Delete", id="job.delete"),
        Binding("g", "retrieve", "Retrieve", id="job.retrieve", tooltip="Get the archive back from storage, verified"),
        Binding("A", "attach", "Attach files", id="job.attach", tooltip="Add files before packing"),
        Binding("o", "older_logs", "Older log", id="job.older_logs"),
        Binding("v", "log_level", "Log level", id="job.log_level"),
        Binding("t", "tab('timeline')", "Timeline", id="job.tab_timeline", show=False),
        Binding("l", "tab('log')", "Log", id="job.tab_log", show=False),
        Binding("a", "tab('artifacts')", "Artifacts", id="job.tab_artifacts", show=False),
        Binding("s", "tab('settings')", "Settings", id="job.tab_settings", show=False),
    ]

    def __init__(self, ctx: TuiContext, job_id: str) -> None:
        super().__init__(ctx)
        self.job_id = job_id
        self.view: JobView | None = None
        self._offered_for: tuple[str, bool] | None = None  # the job's state and deletion the footer was made for
        self._watching = False

    def compose_body(self) -> ComposeResult:
        """Header, progress, tabs."""
        yield LiveText(f"Job {self.job_id}", id="job-header")
        with TabbedContent(initial="log", id="job-tabs"):
            with TabPane("Timeline", id="timeline"):
                yield Timeline(tz=self.ctx.tz, id="job-timeline")
            with TabPane("Log", id="log"):
                yield LogTail(tz=self.ctx.tz, id="job-log")
            with TabPane("Artifacts", id="artifacts"), VerticalScroll():
                yield ArtifactList(tz=self.ctx.tz, id="job-artifacts")
            with TabPane("Settings", id="settings"), VerticalScroll():
                yield LiveText(id="job-settings")

    async def on_mount(self) -> None:  # type: ignore[override]  # Textual runs every class's handler
        """Receive this job's log lines (Textual then runs `DaemonScreen.on_mount`, which loads)."""
        await self.link.watch_logs(self.job_id)
        self._watching = True

    def on_unmount(self) -> None:
        """Stop caring about this job's log lines."""
        if self._watching:
            self.link.unwatch_logs(self.job_id)

    @property
    def log_tail(self) -> LogTail:
        """The log widget."""
        return self.query_one(LogTail)

    async def reload(self) -> None:
        """The job with timeline and artifacts, and the newest page of its log."""
        await self._load_job()
        page = await self.link.api.job_logs(
            self.job_id, limit=self.ctx.log_page_size, min_level=self.log_tail.min_level
        )
        self.job_id = page.job_id  # the daemon resolves a prefix to the full id
        self.log_tail.show(page.entries, has_older=page.next_before_id is not None)

    async def _load_job(self) -> None:
        view = await self.link.api.get_job(self.job_id)
        self.view = view
        self.job_id = view.job.id
        self._show_header(view.job)
        if (view.job.state, view.job.deleted) != self._offered_for:
            self._offered_for = (view.job.state, view.job.deleted)
            self.refresh_bindings()  # the footer offers what the job's state allows
        self.query_one(Timeline).show(view.timeline)
        self.query_one(ArtifactList).show(view.artifacts, job_state=view.job.state)
        self.query_one("#job-settings", LiveText).update(_settings_text(view.job))

    def apply_events(self, batch: EventBatch) -> None:
        """This job's state, progress and log lines."""
        if self.view is None:
            return
        job = batch.jobs.get(self.job_id)
        if job is not None or self.job_id in batch.deleted:
            # A state change also changes the timeline and maybe the artifacts: fetch them.
            self.background(self._load_job, group="job")
        progress = batch.progress.get(self.job_id)
        if progress is not None and job is None:
            self.view.job.progress, self.view.job.progress_text = progress.percent, progress.text
            self._show_header(self.view.job)
        if self.job_id in batch.logs:
            self.log_tail.append(batch.logs[self.job_id])

    def tick(self) -> None:
        """The running time of an active job."""
        if self.view is not None and self.view.job.state in ACTIVE:
            self._show_header(self.view.job)

    def _show_header(self, job: JobDetail) -> None:
        tz = self.ctx.tz
        lines = Text.assemble(("Job ", "bold"), (job.id, "bold"), "  ", state_text(job.state))
        if job.deleted:
            lines.append("  (deleted)", style="yellow")
        # Names come from Moodle, the initiator from the daemon: plain() keeps them literal and visible.
        lines.append("\n")
        lines.append_text(plain(job.activity_name or "activity", "bold"))
        lines.append_text(plain(f" (cmid {job.cmid}, {job.driver}) in ", "dim"))
        lines.append_text(plain(job.course_name or "course", "bold"))
        lines.append(f" (id {job.course_id})", style="dim")
        lines.append_text(plain(f"\nby {job.initiator} · created {compact_time(job.created_at, tz)}", "dim",
                                newlines=True))  # fmt: skip
        started, label = job.started_at, "started"
        runs = [step.at for step in (self.view.timeline if self.view else []) if step.from_state == JobState.QUEUED]
        if len(runs) > 1:  # retried: the duration is the last run's, so is the start shown
            started, label = runs[-1], f"run {len(runs)} started"
        if started:
            lines.append(f" · {label} {local_time(started, tz, seconds=True)[11:]}", style="dim")
        if job.finished_at:
            lines.append(f" · finished {local_time(job.finished_at, tz, seconds=True)[11:]}", style="dim")
        ran = job.run_seconds
        if job.state in ACTIVE and started is not None:
            ran = max(0.0, self.ctx.clock() - started.timestamp())
        if job.started_at:
            lines.append(f" · ran {human_duration(ran)}", style="dim")
        if job.retries:
            lines.append(f" · retries {job.retries}", style="dim")
        if job.state in ACTIVE:
            lines.append("\n")
            lines.append_text(progress_text(job.progress, 20))
            lines.append_text(plain(f"  {job.progress_text}"))
            if job.next_retry_at:
                lines.append(f"  next retry {local_time(job.next_retry_at, tz, seconds=True)[11:]}", style="yellow")
        elif job.error_message or job.error_code:
            stage = f" in {job.failed_stage.replace('_', ' ')}" if job.failed_stage else ""
            lines.append(f"\n✖ {job.state.replace('_', ' ')}{stage}: ", style="bold red")
            lines.append_text(plain(f"{job.error_code or ''} — {job.error_message or ''}", "red", newlines=True))
        if self.view is not None and self.view.completeness is not None:
            lines.append_text(_completeness_text(self.view.completeness))
        self.query_one("#job-header", LiveText).update(lines)

    # -- actions ------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to where the job was opened from."""
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        """Show one tab."""
        self.query_one(TabbedContent).active = tab

    def action_older_logs(self) -> None:
        """Load the page of log lines before the oldest shown."""
        self.action_tab("log")
        if not self.log_tail.request_older():
            self.notify("This is the start of the log.", timeout=3)

    @on(LogTail.OlderRequested)
    def _older(self, event: LogTail.OlderRequested) -> None:
        self.background(partial(self._load_older, event.before_id), group="older")

    async def _load_older(self, before_id: int) -> None:
        tail = self.log_tail
        page = await self.attempt(
            "Load older log lines",
            self.link.api.job_logs(
                self.job_id, before_id=before_id, limit=self.ctx.log_page_size, min_level=tail.min_level
            ),
        )
        if page is not None:
            tail.prepend(page.entries, has_older=page.next_before_id is not None)

    def action_log_level(self) -> None:
        """debug → info → warning → error → debug: the least important level shown."""
        tail = self.log_tail
        tail.min_level = LEVELS[(LEVELS.index(tail.min_level) + 1) % len(LEVELS)]
        self.action_tab("log")
        self.notify(f"Showing {tail.min_level} and above.", timeout=2)
        self.request_reload()

    def _job(self) -> JobSummary | None:
        return self.view.job if self.view is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what the job's state allows: no Retry or Cancel for a completed job."""
        job = self._job()
        if job is None or action not in {"retry", "cancel", "delete", "retrieve", "attach"}:
            return True
        if action == "attach":
            return may_attach(job)
        if action == "retry":
            return job.state in RETRYABLE
        if action == "cancel":
            return job.state in CANCELABLE
        if action == "delete":
            return job.state in TERMINAL and not job.deleted
        return self.view is not None and stored_artifact(self.view) is not None

    def action_retry(self) -> None:
        """Retry this job."""
        if (job := self._job()) is not None:
            self.background(partial(job_actions.retry_job, self, job), group="action", exclusive=False)

    def action_cancel(self) -> None:
        """Cancel this job (asks first)."""
        if (job := self._job()) is not None:
            self.background(partial(job_actions.cancel_job, self, job), group="action", exclusive=False)

    def action_delete(self) -> None:
        """Delete this job's archives (shows what goes, asks first)."""
        if (job := self._job()) is not None:
            self.background(partial(self._delete, job.id), group="action", exclusive=False)

    def action_retrieve(self) -> None:
        """Get this job's archive back from a target that holds it, verified, into a new file."""
        if self.view is not None:
            self.background(partial(retrieve_archive, self, self.view), group="action", exclusive=False)

    def action_attach(self) -> None:
        """Add files to this job before it is packed (asks which, and why)."""
        if (job := self._job()) is not None:
            self.background(partial(attach_files, self, job), group="action", exclusive=False)

    async def _delete(self, job_id: str) -> None:
        if await job_actions.delete_job(self, job_id) is not None:
            await self._load_job()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """What this job's state allows, and the tabs."""
        job = self._job()
        if job is not None:
            label = f"{short_id(job.id)} ({job.activity_label})"
            if job.state in RETRYABLE:
                yield SystemCommand(f"job: retry {label}", "Queue the job again", self.action_retry)
            if job.state in CANCELABLE:
                yield SystemCommand(f"job: cancel {label}", "Stop the job; it ends as canceled", self.action_cancel)
            if job.state in TERMINAL and not job.deleted:
                yield SystemCommand(f"job: delete {label}", "Delete its stored archives", self.action_delete)
            if self.view is not None and stored_artifact(self.view) is not None:
                yield SystemCommand(f"job: retrieve {label}", "Get the archive back, verified", self.action_retrieve)
            if may_attach(job):
                yield SystemCommand(f"job: attach files to {label}", "Add files before packing", self.action_attach)
        yield SystemCommand("job: load older log lines", "Page the log backwards", self.action_older_logs)
        yield SystemCommand("job: change log level", "debug → info → warning → error", self.action_log_level)
        for tab in ("timeline", "log", "artifacts", "settings"):
            yield SystemCommand(f"job: show {tab}", f"The {tab} tab", lambda t=tab: self.action_tab(t))


def _completeness_text(completeness: Completeness) -> Text:
    """The archive's completeness in a line or two (as `archived jobs show` states it)."""
    text = Text("\n")
    if completeness.complete:
        text.append("✔ complete", style="green")
    else:
        text.append("✖ INCOMPLETE", style="bold red")
    text.append_text(plain(f": {completeness.counts}"))
    if completeness.gaps:
        label = "not checked" if completeness.complete else "incomplete"
        text.append(f"\n{label}: ", style="yellow")
        text.append_text(plain("; ".join(completeness.gaps), "yellow", newlines=True))
    return text


def _settings_text(job: JobDetail) -> Text:
    """The resolved settings the job runs with (grouped as the daemon stores them)."""
    text = Text()
    for group, values in job.settings.items():
        text.append(f"{group}\n", style="bold")
        items = values.items() if isinstance(values, dict) else [("", values)]
        for key, value in items:
            shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            text.append_text(plain(f"  {key}", "cyan"))
            text.append_text(plain(f" = {shown}"))
            text.append("\n")
    return text or Text("No settings recorded.", style="dim")
