"""Snapshots of the four screens at 80×24 and 120×40 (plus job detail, dialogs and help at 80×24).

Fed from the recorded state in `recorded.py` with a frozen clock and UTC, so the pictures only change when
the TUI does. Update after a deliberate change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from archived_tui.app import ArchivedApp
from archived_tui.settings_file import TuiSettings
from archived_tui.widgets.job_table import JobTable
from tests.tui.conftest import settle
from tests.tui.recorded import DETAIL_JOB, FROZEN_CLOCK, RecordedDaemon, _id

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
SCREENS = ("dashboard", "courses", "jobs", "storage")


def recorded_app(initial_mode: str = "dashboard") -> ArchivedApp:
    """The TUI on the recorded daemon state."""
    return ArchivedApp(
        Path("/run/archived/archived.sock"),
        settings=TuiSettings(timezone="UTC"),
        client_factory=RecordedDaemon,
        clock=FROZEN_CLOCK,
        notify_finished=False,
        initial_mode=initial_mode,
    )


async def show(pilot: Pilot[None], *keys: str) -> None:
    """Press keys, letting every fetch finish after each; no blinking cursors."""
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    # On a busy machine the last update's layout pass may still be pending (a panel one line taller for a frame
    # showed a scrollbar in one picture out of many): let every scheduled refresh run before the picture.
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare, screen: str, size: tuple[int, int]) -> None:
    """Dashboard, Courses, Jobs, Storage."""
    assert snap_compare(recorded_app(screen), terminal_size=size, run_before=show)


async def open_detail(pilot: Pilot[None], *keys: str) -> None:
    """The completed job's detail, then `keys`."""
    await show(pilot)
    table = pilot.app.screen.query_one(JobTable)
    table.move_cursor(row=table.order.index(_id(DETAIL_JOB)))
    await show(pilot, "enter", *keys)


@pytest.mark.parametrize("tab", ["log", "artifacts"])
def test_job_detail(snap_compare, tab: str) -> None:
    """A completed job: its log, and its artifacts with checksums and locations."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_detail(pilot, *(["a"] if tab == "artifacts" else []))

    assert snap_compare(recorded_app("jobs"), terminal_size=(80, 24), run_before=run_before)


def test_delete_dialog(snap_compare) -> None:
    """Deleting says which copies go, what stays, and asks about retention."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_detail(pilot, "d")

    assert snap_compare(recorded_app("jobs"), terminal_size=(80, 24), run_before=run_before)


def test_archive_activity_dialog(snap_compare) -> None:
    """From an activity: its settings with presets; the locked one cannot be changed."""

    async def run_before(pilot: Pilot[None]) -> None:
        await show(pilot, "tab", "down", "down", "a")

    assert snap_compare(recorded_app("courses"), terminal_size=(80, 24), run_before=run_before)


def test_help(snap_compare) -> None:
    """The keys of the jobs screen and the global ones, with their ids."""

    async def run_before(pilot: Pilot[None]) -> None:
        await show(pilot, "question_mark")

    assert snap_compare(recorded_app("jobs"), terminal_size=(80, 24), run_before=run_before)
