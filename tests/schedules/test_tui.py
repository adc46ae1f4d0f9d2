"""The Schedules screen (Textual's Pilot) against a real daemon reading the Moodle simulator: the schedule with its
next run, a dry run's selection in the panel; the dashboard names its next run; switching it off."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from archived.simulator.simulator import MoodleSimulator
from archived_tui.schedules_screen import SchedulesScreen
from tests.support.simulator import moodle_overrides
from tests.tui.conftest import make_app, until
from tests.tui.rendered import screen_text

pytestmark = pytest.mark.slow
SIZE = (140, 44)
NIGHTLY = {"name": "nightly", "cron": "0 2 * * mon-fri", "timezone": "Europe/Berlin",
           "rule": {"courses": [2], "types": ["quiz"]}}  # fmt: skip


async def test_the_schedules_screen_dry_runs_and_switches_off(daemon_factory, tmp_path: Path) -> None:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim), **{"workers.render_processes": 1})
        async with daemon.client() as client:
            await client.call("schedules.add", NIGHTLY)
            status = await client.call("daemon.status")
            assert [s["name"] for s in status["schedules"]] == ["nightly"]

        app = make_app(daemon.socket, initial_mode="schedules")
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, SchedulesScreen)
            table = app.screen.query_one("#schedules-table", DataTable)
            await until(pilot, lambda: table.row_count == 1, "the schedule")
            assert "not run yet" in screen_text(app)

            await pilot.press("d")
            await until(pilot, lambda: "dry run: 1 selected" in screen_text(app), "the dry run's outcome")
            assert "Final exam Mathematics I" in screen_text(app)
            async with daemon.client() as client:
                assert (await client.call("jobs.list"))["total"] == 0

            await pilot.press("1")
            await until(pilot, lambda: "Next runs: nightly" in screen_text(app), "the dashboard's next runs")

            app.switch_mode("schedules")
            await until(pilot, lambda: isinstance(app.screen, SchedulesScreen), "the schedules screen")
            table = app.screen.query_one("#schedules-table", DataTable)
            await until(pilot, lambda: table.row_count == 1, "the schedule")
            await pilot.press("e")
            await until(pilot, lambda: str(table.get_row_at(0)[1]) == "no", "the schedule switched off")
