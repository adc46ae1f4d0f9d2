"""The TUI at scale, against a real daemon: 10,000 jobs and a failure storm; search, filters and bulk actions.

A storm of job failures used to raise a toast per job (two, while `job.failed` was published twice), froze the
TUI for minutes and left the jobs table with fewer rows than its count said.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.job_table import JobTable
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.busy_site import STORE_FILE, count_jobs, fail_burst, fill_store
from tests.tui.conftest import make_app, settle, until
from tests.tui.rendered import screen_text

pytestmark = pytest.mark.slow

SIZE = (120, 40)
STORED = 10_000
BURST = 1_000


async def test_a_failure_storm_is_one_notice_and_the_table_keeps_up(daemon_factory, tmp_path: Path) -> None:
    """10,000 jobs, then 1,000 failing within seconds: one grouped notice, count and rows agree, keys still work."""
    await fill_store(tmp_path / STORE_FILE, STORED)
    daemon = daemon_factory(**{"daemon.max_running_jobs": 16, "daemon.log_level": "warning"})
    app = make_app(daemon.socket, initial_mode="jobs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one(JobTable)
        await until(pilot, lambda: table.total == STORED, "the 10,000 jobs")

        burst = asyncio.create_task(fail_burst(daemon.socket, BURST))
        await until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "the first failure notice")
        # A key pressed while the storm goes on is handled before the storm's events are all read.
        press = asyncio.create_task(pilot.press("f"))  # all → active
        while screen.state_filter.name != "active":  # noqa: ASYNC110 - polls the app between its own messages
            await asyncio.sleep(0.005)
        events_when_handled = app.link.events_received
        await press
        await burst

        async with daemon.client() as client:
            deadline = asyncio.get_running_loop().time() + 180
            while await count_jobs(client, states=["failed"]) < BURST:
                assert asyncio.get_running_loop().time() < deadline, "the burst's jobs did not all fail"
                await asyncio.sleep(0.5)
            total = await count_jobs(client)
        await pilot.press("f", "f", "f", "f")  # active → failed → completed → canceled → all
        assert screen.state_filter.name == "all"

        def agrees() -> bool:
            return table.total == total and table.row_count == len(table.order) >= min(total, 100)

        await until(pilot, agrees, "the table's count and rows to agree with the daemon", timeout=60)
        assert f"of {total:,} jobs" in screen_text(app)
        await until(pilot, lambda: app.ending_notices[-1].title == "1,000 jobs failed", "the grouped notice", 30)
        assert events_when_handled < app.link.events_received
        assert len(app.ending_notices) == 1, app.ending_notices  # one notice, updated in place: not 1,000 (or 2,000)
        message = app.ending_notices[0].message
        assert "fatal ×1,000" in message and "F to see them" in message, message

        await pilot.press("F")  # the notice's jump: the failed jobs of its error code
        await until(pilot, lambda: table.total == BURST, "the failed jobs")
        assert screen.state_filter.name == "failed" and screen.query_state.error_codes == ("fatal",)


async def test_search_and_filters_find_jobs_and_retry_all_matching(daemon_factory, tmp_path: Path) -> None:
    """`/` searches, `e` keeps one error code, `R` retries every matching job after one confirmation."""
    outage = tmp_path / "outage"
    outage.touch()
    daemon = daemon_factory(**{"storage.local.driver": "slowlocal", "storage.local.fail_file": str(outage),
                               "retry.max_retries": 0})  # fmt: skip
    async with daemon.client() as client:
        failing = [await create_job(client, cmid=300 + n, files=1) for n in range(6)]
        fatal = await create_job(client, cmid=400, fatal=True)
        for job_id in [*failing, fatal]:
            await wait_for_state(client, job_id, TERMINAL)
    outage.unlink()

    app = make_app(daemon.socket, initial_mode="jobs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one(JobTable)
        await until(pilot, lambda: table.total == 7, "the seven failed jobs")

        await pilot.press("slash", *"storage_un", "enter")  # search: the error code
        await until(pilot, lambda: table.total == 6, "the six storage failures")
        assert set(table.order) == set(failing)
        await pilot.press("escape")  # clear search and filters
        await until(pilot, lambda: table.total == 7, "all seven again")
        table.move_cursor(row=table.order.index(failing[0]))
        await pilot.press("e")  # only the highlighted job's error code
        await until(pilot, lambda: table.total == 6, "the storage failures by error code")
        assert screen.query_state.error_codes == ("storage_unavailable",)
        assert "error storage_unavailable" in screen_text(app)

        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "Retry all 6 matching jobs?" in screen_text(app)
        await pilot.press("y")
        async with daemon.client() as client:
            for job_id in failing:
                assert (await wait_for_state(client, job_id, TERMINAL))["state"] == "completed"
            assert (await client.call("jobs.get", {"job_id": fatal}))["job"]["state"] == "failed"  # not matched
        await until(pilot, lambda: any("Retried 6 of 6" in n.message for n in app._notifications), "the report")


async def test_marked_jobs_and_context_actions(daemon_factory, tmp_path: Path) -> None:
    """Space marks jobs, `r` retries the marked ones (one confirmation); Retry is not offered for a completed job."""
    daemon = daemon_factory()
    async with daemon.client() as client:
        done = await create_job(client, cmid=11, files=1)
        failed = [await create_job(client, cmid=12 + n, fatal=True) for n in range(3)]
        for job_id in [done, *failed]:
            await wait_for_state(client, job_id, TERMINAL)

    app = make_app(daemon.socket, initial_mode="jobs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(JobTable)
        await until(pilot, lambda: table.total == 4, "the jobs")
        table.move_cursor(row=table.order.index(done))
        await pilot.pause(0.1)
        footer = screen_text(app).splitlines()[-1]
        assert "Retry all" in footer and " r Retry" not in footer and "d Delete" in footer, footer

        table.move_cursor(row=0)
        for _ in range(4):
            await pilot.press("space")  # marks and moves down
        assert table.marked == {done, *failed}
        assert "4 marked" in screen_text(app)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "Retry 3 marked jobs?" in screen_text(app)  # the completed one is not retryable
        await pilot.press("y")
        await until(pilot, lambda: any("Retried 3 of 3 marked" in n.message for n in app._notifications),
                    "the report")  # fmt: skip
