"""The dashboard against a real daemon: failures grouped by reason with a jump to them, storage as last tested
(wherever), and a daemon that goes away: panels greyed, the uptime stands still."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from archived_tui.screens.dashboard import DashboardScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.failure_table import FailureTable
from archived_tui.widgets.job_table import JobTable
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.conftest import make_app, settle, until
from tests.tui.rendered import screen_text

pytestmark = pytest.mark.slow

SIZE = (120, 40)


def uptime(app) -> str:
    """The daemon's uptime as the dashboard shows it."""
    found = re.search(r" up (\S+)", screen_text(app))
    assert found, screen_text(app)
    return found.group(1)


async def test_failures_by_reason_jump_to_the_jobs_screen(daemon_factory, tmp_path: Path) -> None:
    outage = tmp_path / "outage"
    outage.touch()
    daemon = daemon_factory(**{"storage.local.driver": "slowlocal", "storage.local.fail_file": str(outage),
                               "retry.max_retries": 0})  # fmt: skip
    async with daemon.client() as client:
        stored = [await create_job(client, cmid=30 + n, files=1) for n in range(3)]
        fatal = await create_job(client, cmid=40, fatal=True)
        for job_id in [*stored, fatal]:
            await wait_for_state(client, job_id, TERMINAL)

    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        failures = screen.query_one(FailureTable)
        await until(pilot, lambda: list(failures.order) == ["storage_unavailable", "fatal"], "the reasons")
        text = screen_text(app)
        assert "4 failed" in text and "storage_unavailable" in text and "storage target local: simulated" in text

        failures.focus()
        await pilot.press("enter")  # the first reason's failed jobs
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), "the jobs screen")
        jobs = app.screen
        table = jobs.query_one(JobTable)
        await until(pilot, lambda: table.total == 3, "the three storage failures")
        assert set(table.order) == set(stored)
        assert jobs.query_state.error_codes == ("storage_unavailable",) and jobs.state_filter.name == "failed"


async def test_storage_tested_elsewhere_and_a_daemon_that_went_away(daemon_factory, tmp_path: Path) -> None:
    daemon = daemon_factory()
    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        await until(pilot, lambda: "● ok" in screen_text(app), "the storage probe")

        archive = tmp_path / "archive"  # the target's folder (tests/support/daemon.py) becomes a file
        shutil.rmtree(archive)
        archive.write_text("not a folder")
        await pilot.press("4", "t")  # Storage: test the target now
        await until(pilot, lambda: "Failing: local" in " ".join(n.message for n in app._notifications), "the test")
        await pilot.press("1")
        await until(pilot, lambda: "probe failed" in screen_text(app), "the dashboard's storage row")

        await until(pilot, lambda: "up " in screen_text(app), "the uptime")
        daemon.kill()
        await until(pilot, lambda: dashboard.has_class("-offline"), "the panels greyed")
        shown = uptime(app)
        await pilot.pause(2.5)  # two ticks of the clock
        assert uptime(app) == shown
        assert "away since" in screen_text(app)


async def test_a_job_waiting_to_retry_says_which_retry_when_and_why(daemon_factory) -> None:
    daemon = daemon_factory(**{"retry.backoff_base_seconds": 60, "retry.backoff_max_seconds": 60})
    async with daemon.client() as client:
        job_id = await create_job(client, cmid=50, fail_times=1)
        await wait_for_state(client, job_id, {"recoverable_error"})
    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await until(pilot, lambda: "retry 1/3 in " in screen_text(app), "the retry state")
        line = next(line for line in screen_text(app).splitlines() if "retry 1/3 in " in line)
        assert "s, test" in line, line  # then the error, as far as the column goes
        table = app.screen.query_one("#dash-active-table", JobTable)
        assert "transient failure 1/1" in table.retry_states[job_id].reason
