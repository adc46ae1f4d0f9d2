"""The job detail's "retrieve" (key g): the dialog asks where; the daemon fetches and verifies the archive; the TUI
writes it to a new file, and refuses a path that exists. The artifacts tab shows a copy still pending. (A real daemon,
the TUI through Textual's Pilot.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

from textual.widgets import Input

from archived_tui.dialogs.retrieve_archive import RetrieveArchiveDialog
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.job_table import JobTable
from tests.support.jobs import create_job, wait_for_state
from tests.tui.conftest import make_app, notifications, until
from tests.tui.rendered import screen_text


def refusal(app: object) -> str:
    """What the dialog's error line says."""
    screen = getattr(app, "screen", None)
    if not isinstance(screen, RetrieveArchiveDialog):
        return ""
    return str(screen.query_one("#dialog-error").render())


async def test_retrieve_writes_the_verified_archive_to_a_new_file_only(daemon, tmp_path: Path) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=2)
        await wait_for_state(client, job_id, {"completed"})
        artifact = (await client.call("jobs.get", {"job_id": job_id}))["artifacts"][0]
    (tmp_path / "out").mkdir()
    dest = tmp_path / "out" / "retrieved.zip"

    app = make_app(daemon.socket)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.query_one(JobTable).items,
                    "the jobs table")  # fmt: skip
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view is not None,
                    "the job detail")  # fmt: skip

        for attempt in range(2):
            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, RetrieveArchiveDialog), "the retrieve dialog")
            app.screen.query_one("#retrieve-path", Input).value = str(dest)
            await pilot.press("enter")
            if attempt == 0:
                await until(pilot, lambda: dest.exists(), "the retrieved file")
                await until(pilot, lambda: any(n.startswith(artifact["name"]) for n in notifications(app)),
                            "the notification")  # fmt: skip
            else:  # the same path again: refused in the dialog, nothing fetched
                await until(pilot, lambda: "exists; archives are never written over" in refusal(app), "the refusal")
                assert isinstance(app.screen, RetrieveArchiveDialog)
                await pilot.press("escape")
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == artifact["sha256"]
    assert [p.name for p in dest.parent.iterdir()] == ["retrieved.zip"]  # no temporary file left beside it
    assert any("from local, verified" in n for n in notifications(app))


async def test_the_artifacts_tab_shows_a_pending_copy(daemon_factory, tmp_path: Path) -> None:
    down = tmp_path / "spare-down"
    down.touch()
    spare = f"""
[storage.spare]
driver = "slowlocal"
required = false
path = "{tmp_path / "spare"}"
fail_file = "{down}"
"""
    daemon = daemon_factory(extra=spare)
    async with daemon.client() as client:
        job_id = await create_job(client, files=1, storage_targets=["local", "spare"])
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
        await pilot.press("a")
        await until(pilot, lambda: "spare  pending: try 2 at" in screen_text(app), "the pending copy")
        assert "storage target spare: simulated outage" in screen_text(app)
