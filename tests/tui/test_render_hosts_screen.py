"""The Render hosts screen and the dashboard's render hosts line, through Textual's Pilot against real daemons: one
rendering on a real Dask cluster (`dask scheduler` and `archived render-worker` processes on loopback, one host with
other fonts, one joining while the screen is shown), one whose scheduler is not there, and one with the local
default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from archived.simulator.simulator import MoodleSimulator
from archived_tui.keymap import known_binding_ids
from archived_tui.screens.dashboard import DashboardScreen
from archived_tui.screens.render_hosts import RenderHostsScreen
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.render_cluster import RenderCluster, fontconfig_with_one_font, free_port
from tests.support.simulator import moodle_overrides
from tests.tui.conftest import make_app, settle, until
from tests.tui.rendered import screen_text

# Not marked `render`: what these test is the orchestration, not WeasyPrint's rendering path (scripts/test runs `render`
# tests twice).
pytestmark = pytest.mark.timeout(300)

SIZE = (240, 50)  # wide enough that no line the tests look for wraps
EXAM = {"course_id": 2, "cmid": 2}  # the recorded site's quiz: 9 finished attempts


@pytest.fixture(scope="module")
def simulator() -> Iterator[MoodleSimulator]:
    with MoodleSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderCluster]:
    """Two matching worker processes (render-1, render-2) and one whose fontconfig sees a single font (odd-1)."""
    folder = tmp_path_factory.mktemp("cluster")
    render_cluster = RenderCluster(folder)
    render_cluster.start_scheduler()
    render_cluster.start_host("render", processes=2)
    render_cluster.start_host("odd", env=fontconfig_with_one_font(folder / "odd"))
    with render_cluster.joined(3):
        yield render_cluster


def start_daemon(root: Path, simulator: MoodleSimulator, scheduler: str, **overrides: Any) -> DaemonProcess:
    """A daemon on the simulator that renders on the Dask scheduler at `scheduler`."""
    config = write_config(
        root, **moodle_overrides(root, simulator),
        **{"workers.backend": "dask", "workers.dask.scheduler": scheduler, **overrides},
    )  # fmt: skip
    process = DaemonProcess(config, root)
    process.start(timeout=60)
    return process


@pytest.fixture(scope="module")
def dask_daemon(simulator: MoodleSimulator, cluster: RenderCluster, tmp_path_factory: pytest.TempPathFactory):
    process = start_daemon(tmp_path_factory.mktemp("dask-daemon"), simulator, cluster.address,
                           **{"workers.dask.connect_timeout_seconds": 5})  # fmt: skip
    yield process
    process.kill()


async def run_quiz_job(daemon: DaemonProcess) -> dict[str, Any]:
    """Archive the quiz (the daemon connects to the cluster at its first render); the job's record at its end."""
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**EXAM, "settings": {}})
        return await wait_for_state(client, str(answer["job"]["id"]), TERMINAL, timeout=240)


async def open_render_hosts(pilot: Any) -> RenderHostsScreen:
    """Through the command palette, as an operator would."""
    app = pilot.app
    await pilot.press("ctrl+p", *"go: render hosts")
    await until(pilot, lambda: "Show the Render hosts screen" in screen_text(app), "the palette's command")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RenderHostsScreen), "the Render hosts screen")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, RenderHostsScreen)
    return screen


def worker_rows(screen: RenderHostsScreen) -> dict[str, str]:
    """Worker name → its row as the table shows it (cells joined by ' | ')."""
    table = screen.query_one("#render-workers", DataTable)
    rows = (table.get_row_at(i) for i in range(table.row_count))
    return {str(row[0]): " | ".join(str(cell) for cell in row) for row in rows}


async def test_the_cluster_workers_and_a_host_with_other_fonts(
    dask_daemon: DaemonProcess, cluster: RenderCluster
) -> None:
    job = await run_quiz_job(dask_daemon)
    assert job["state"] == "completed", dask_daemon.log()
    app = make_app(dask_daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        scheduler = dask_daemon.config.read_text().split('scheduler = "')[1].split('"')[0]
        # The daemon reads the cluster every 2 s: the job's load leaves it shortly after the job.
        line = f"Render hosts 2/3 matching · 1 worker does not match: fonts · 0/2 slots busy · {scheduler}"
        await until(pilot, lambda: line in screen_text(app), "the dashboard's line")

        screen = await open_render_hosts(pilot)
        await until(pilot, lambda: len(worker_rows(screen)) == 3, "three workers")
        rows = worker_rows(screen)
        assert set(rows) == {"render-1", "render-2", "odd-1"}, rows
        assert rows["render-1"].endswith("| yes") and rows["render-2"].endswith("| yes"), rows
        assert "| no: fonts: 1 files (" in rows["odd-1"], rows

        def tasks() -> dict[str, int]:
            return {name: int(row.split(" | ")[4]) for name, row in worker_rows(screen).items()}

        # Nine reports, rendered by the two matching workers only (their counters are read every 10 s; the screen
        # polls on its own).
        await until(pilot, lambda: tasks()["render-1"] + tasks()["render-2"] == 9, "the workers' task counts")
        assert tasks()["odd-1"] == 0
        text = screen_text(app)
        assert "Backend dask · scheduler " + scheduler + " · connected" in text, text
        assert "9 rendered · 0 failed" in text, text
        fingerprint = screen.cluster.fingerprint if screen.cluster else ""
        assert fingerprint and f"Fingerprint {fingerprint}" in text, text

        # The host with other fonts, highlighted: every difference, the worker's value first.
        table = screen.query_one("#render-workers", DataTable)
        table.move_cursor(row=list(rows).index("odd-1"))
        await until(pilot, lambda: "Worker odd-1" in screen_text(app), "the worker's panel")
        assert "Gets no work from this daemon" in screen_text(app)
        assert "  fonts: 1 files (" in screen_text(app)

        # m: only the workers that get no work; again: all of them.
        await pilot.press("m")
        await until(pilot, lambda: set(worker_rows(screen)) == {"odd-1"}, "only the mismatched worker")
        await pilot.press("m")
        await until(pilot, lambda: len(worker_rows(screen)) == 3, "every worker again")

        # A host that joins while the screen is shown appears without any job event (the screen polls).
        cluster.start_host("late")
        await until(pilot, lambda: "late-1" in worker_rows(screen), "the host that joined", timeout=90)
        await until(pilot, lambda: worker_rows(screen)["late-1"].endswith("| yes"), "its fingerprint", timeout=30)


async def test_an_unreachable_scheduler_is_red_with_the_daemons_problem(
    simulator: MoodleSimulator, tmp_path: Path
) -> None:
    scheduler = f"tcp://127.0.0.1:{free_port()}"
    daemon = start_daemon(tmp_path, simulator, scheduler, **{"workers.dask.connect_timeout_seconds": 1})
    try:
        app = make_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # The daemon tries the scheduler from its start: the problem shows before any job needs the hosts.
            expected = f"Render hosts not connected: cannot reach the render scheduler {scheduler}"
            for _ in range(20):
                await pilot.press("ctrl+r")
                if expected in screen_text(app):
                    break
                await pilot.pause(0.5)
            assert expected in screen_text(app), screen_text(app)
            job = await run_quiz_job(daemon)
            assert job["error_code"] == "render_cluster_unavailable", job

            await open_render_hosts(pilot)
            text = screen_text(app)
            assert f"scheduler {scheduler} · not connected: cannot reach the render scheduler" in text, text
            assert "No workers known: the daemon is not connected to the scheduler." in text, text
    finally:
        daemon.kill()


async def test_the_local_backend(daemon_factory: Any) -> None:
    """The default: the dashboard says nothing new; the screen shows the local processes and how to add hosts."""
    daemon = daemon_factory(**{"workers.render_processes": 2})
    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "(pid " in screen_text(app)  # the daemon panel is filled
        assert "Render hosts" not in screen_text(app)
        screen = await open_render_hosts(pilot)
        text = screen_text(app)
        assert "Backend local · this daemon renders locally: 0/2 processes alive · WeasyPrint " in text, text
        assert '[workers] backend = "dask"' in text and "docs/render-hosts.md" in text, text
        assert not screen.query_one("#render-workers", DataTable).display
        assert "render_hosts.mismatched" in known_binding_ids()
        await pilot.press("question_mark")  # the help names the screen in words
        await until(pilot, lambda: "This screen (Render hosts)" in screen_text(app), "the help screen")
