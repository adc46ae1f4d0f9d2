"""A job that a restarted daemon resumed says so in the TUI's job detail (a real daemon killed mid-stage)."""

from __future__ import annotations

from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.job_table import JobTable
from tests.support.jobs import create_job, wait_for_state
from tests.tui.conftest import make_app, until
from tests.tui.rendered import screen_text

NOTE = "daemon restarted: resuming at activity_archiving"


async def test_the_job_detail_shows_where_a_restarted_daemon_resumed_the_job(daemon) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=20, delay_seconds=0.1)
        await wait_for_state(client, job_id, {"activity_archiving"})
    daemon.kill()
    daemon.restart()
    async with daemon.client() as client:
        await wait_for_state(client, job_id, {"completed"})

    app = make_app(daemon.socket)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.query_one(JobTable).items,
                    "the jobs table")  # fmt: skip
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view is not None,
                    "the job detail")  # fmt: skip
        assert app.screen.view.job.id == job_id
        await pilot.press("t")
        await until(pilot, lambda: NOTE in screen_text(app), "the timeline entry of the restart")
