"""Keyboard remapping, the command palette's context commands, and the mouse, on the recorded state."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from archived_tui.app import ArchivedApp
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.screens.storage import StorageScreen
from archived_tui.settings_file import load_tui_settings
from archived_tui.widgets.job_table import JobTable
from archived_tui.widgets.nav_bar import NavBar
from tests.tui.conftest import notifications, settle, until
from tests.tui.recorded import FROZEN_CLOCK, RecordedDaemon, _id

FAILED_JOB = _id(5)


def app_with(daemon: RecordedDaemon, settings_file: Path | None = None) -> ArchivedApp:
    """The TUI on the recorded state, with a settings file."""
    settings = load_tui_settings(settings_file) if settings_file else None
    return ArchivedApp(Path("/x.sock"), settings=settings, client_factory=lambda: daemon, clock=FROZEN_CLOCK)


async def select_job(app: ArchivedApp, job_id: str) -> None:
    """Put the jobs table's cursor on a job."""
    table = app.screen.query_one(JobTable)
    table.move_cursor(row=table.order.index(job_id))


async def test_keys_are_remapped_from_the_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text('[keys]\n"app.jobs" = "j"\n"job.retry" = "R"\n"job.nonsense" = "x"\n')
    daemon = RecordedDaemon()
    app = app_with(daemon, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert any("'job.nonsense' is not a binding id" in n for n in notifications(app))
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), "the jobs screen on j")
        await settle(pilot)
        await select_job(app, FAILED_JOB)
        await pilot.press("r")  # no longer retry
        await pilot.press("R")
        await until(pilot, lambda: ("jobs.retry", {"job_id": FAILED_JOB}) in daemon.calls, "the retry")
        assert [c for c in daemon.calls if c[0] == "jobs.retry"] == [("jobs.retry", {"job_id": FAILED_JOB})]
        footer_keys = [b.binding.key for b in app.screen.active_bindings.values() if b.binding.id == "job.retry"]
        assert footer_keys == ["R"]


async def test_the_palette_offers_what_the_selected_job_allows() -> None:
    daemon = RecordedDaemon()
    app = app_with(daemon)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await select_job(app, FAILED_JOB)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        label = f"{FAILED_JOB[:8]} (Programming exam)"
        assert f"job: retry {label}" in titles and f"job: delete {label}" in titles
        assert f"job: cancel {label}" not in titles  # a failed job cannot be canceled
        assert "go: storage" in titles and "jobs: show failed jobs" in titles

        await pilot.press("ctrl+p")
        await pilot.press(*"retry programming")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: ("jobs.retry", {"job_id": FAILED_JOB}) in daemon.calls, "the palette's retry")


async def test_the_mouse_works_too() -> None:
    daemon = RecordedDaemon()
    app = app_with(daemon)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click(NavBar, offset=(50, 0))  # "4 Storage"
        await until(pilot, lambda: isinstance(app.screen, StorageScreen), "the storage screen")
        await pilot.click(NavBar, offset=(40, 0))  # "3 Jobs"
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), "the jobs screen")
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        row = table.order.index(FAILED_JOB)
        await pilot.click(DataTable, offset=(3, row + 1))  # +1: the header
        await pilot.click(DataTable, offset=(3, row + 1))  # a click on the selected row opens it
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job detail")
        assert app.screen.job_id == FAILED_JOB
