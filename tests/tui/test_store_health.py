"""The dashboard says when the daemon's job store cannot be written (jobs wait until it can), as `archived status`
does: a red line with the daemon's reason; on the recorded state, and on a real daemon whose store disk fills."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.content import Content

from archived.protocol.errors import RpcError
from archived_tui.app import ArchivedApp
from archived_tui.screens.dashboard import DashboardScreen
from archived_tui.widgets.live_text import LiveText
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state
from tests.support.mounts import fill, tmpfs
from tests.tui.conftest import make_app, settle, until
from tests.tui.recorded import FROZEN_CLOCK, RecordedDaemon
from tests.tui.rendered import screen_text

PROBLEM = "the disk is full: no space left on device (/var/lib/archived/jobs.sqlite); free space there"


def daemon_panel(app: ArchivedApp) -> Content:
    """What the dashboard's daemon panel shows."""
    content = app.screen.query_one("#dash-daemon", LiveText).visual
    assert isinstance(content, Content), type(content)
    return content


def red_spans(content: Content) -> str:
    """The characters of `content` shown in red."""
    return "".join(content.plain[span.start : span.end] for span in content.spans if "red" in str(span.style))


async def test_an_unwritable_store_is_a_red_line_with_the_reason() -> None:
    daemon = RecordedDaemon(store_problem=PROBLEM)
    app = ArchivedApp(Path("/x.sock"), client_factory=lambda: daemon, clock=FROZEN_CLOCK, notify_finished=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        shown = daemon_panel(app)
        assert "store: cannot be written" in shown.plain and PROBLEM in shown.plain
        assert "store: cannot be written" in red_spans(shown) and PROBLEM in red_spans(shown)
        assert "store: cannot be written" in screen_text(app)


async def test_a_writable_store_is_not_mentioned() -> None:
    app = ArchivedApp(Path("/x.sock"), client_factory=RecordedDaemon, clock=FROZEN_CLOCK, notify_finished=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "store" not in daemon_panel(app).plain


@pytest.mark.slow
async def test_a_real_daemon_whose_store_disk_fills_up(tmp_path: Path) -> None:
    """The daemon finds its store unwritable when a write fails; the dashboard shows its reason, and stops showing
    it once space is freed and the store was written again."""
    with tmpfs(tmp_path / "state", size="16m") as state:
        process = DaemonProcess(write_config(tmp_path), tmp_path)
        process.start()
        try:
            async with process.client() as client:
                filler = fill(state)
                for _ in range(50):  # the first write that fails tells the daemon
                    try:
                        await create_job(client)
                    except RpcError:
                        break
                app = make_app(process.socket)
                async with app.run_test(size=(120, 40)) as pilot:
                    await until(pilot, lambda: "store: cannot be written" in daemon_panel(app).plain,
                                "the store's problem on the dashboard")  # fmt: skip
                    shown = daemon_panel(app)
                    assert "disk is full" in red_spans(shown) and str(state) in shown.plain
                    filler.unlink()
                    job_id = await create_job(client, files=1)
                    await wait_for_state(client, job_id, {"completed"})
                    await pilot.press("r")  # reload: the daemon wrote its store again
                    await until(pilot, lambda: "store" not in daemon_panel(app).plain, "the problem to go away")
        finally:
            process.kill()
