"""The dialogs' keys and focus, on the recorded state: `y` confirms everywhere, the delete dialog's force box is
one Tab away and a refusal points at it, the new-job dialog names the course and activity (or refuses them) and
shows the presets and locks of the course's categories once it knows the course."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from textual.widgets import Button, Checkbox
from textual.widgets._footer import FooterKey

from archived.protocol.errors import ErrorCode, RpcError
from archived_tui.app import ArchivedApp
from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.dialogs.delete_job import DeleteJobDialog
from archived_tui.dialogs.new_job import NewJobDialog
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.job_table import JobTable
from tests.tui.conftest import notifications, settle, until
from tests.tui.recorded import COURSE_BY_ID, DETAIL_JOB, FROZEN_CLOCK, RecordedDaemon, _id
from tests.tui.rendered import screen_text

RUNNING_JOB = _id(1)


class Moodle(RecordedDaemon):
    """The recorded state; an unknown course is NOT_FOUND, as the daemon answers."""

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "courses.show" and params["course_id"] not in COURSE_BY_ID:
            raise RpcError(ErrorCode.NOT_FOUND, f"course {params['course_id']} not found")
        return super()._answer(method, params)


class CategoryLocks(Moodle):
    """As the daemon answers `settings.describe` for a course in category 3 (a subcategory of 2) whose preset locks
    retention_years."""

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        answer = super()._answer(method, params)
        if method == "settings.describe" and params.get("course_id") is not None:
            locked = {**answer["settings"][0], "value": 10, "locked": True, "source": "category 3",
                      "locked_by": "category 3"}  # fmt: skip
            return {**answer, "settings": [locked, *answer["settings"][1:]], "course_id": params["course_id"],
                    "category_id": 3, "presets": ["site", "category 2", "category 3"]}  # fmt: skip
        return answer


def app_on(daemon: RecordedDaemon) -> ArchivedApp:
    """The TUI on the recorded state, Jobs first."""
    return ArchivedApp(Path("/x.sock"), client_factory=lambda: daemon, clock=FROZEN_CLOCK, initial_mode="jobs",
                       notify_finished=False)  # fmt: skip


async def test_delete_dialog_y_tab_and_the_force_box() -> None:
    daemon = RecordedDaemon()
    app = app_on(daemon)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        table.move_cursor(row=table.order.index(_id(DETAIL_JOB)))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteJobDialog), "the delete dialog")
        dialog = app.screen
        await settle(pilot)
        assert isinstance(dialog.focused, Button) and dialog.focused.id == "keep"  # the safe default
        footer = screen_text(app).splitlines()[-1]
        assert "y Yes, delete" in footer and "esc Keep" in footer, footer

        await pilot.press("tab")  # one Tab: the force box
        assert isinstance(dialog.focused, Checkbox) and dialog.focused.id == "force"
        await pilot.press("shift+tab")
        await pilot.press("y")  # retained and not forced: refused at the box, not by the daemon
        assert app.screen is dialog and isinstance(dialog.focused, Checkbox)
        assert any("tick “anyway (force)”" in n for n in notifications(app))
        assert not [c for c in daemon.calls if c[0] == "jobs.delete"]

        await pilot.press("space", "y")
        await until(pilot, lambda: [c for c in daemon.calls if c[0] == "jobs.delete"], "the delete")
        assert ("jobs.delete", {"job_id": _id(DETAIL_JOB), "force": True}) in daemon.calls


async def test_confirm_dialog_says_y_and_confirms_with_it() -> None:
    daemon = RecordedDaemon()
    app = app_on(daemon)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        table.move_cursor(row=table.order.index(RUNNING_JOB))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the cancel dialog")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "y Yes" in footer and "esc Keep" in footer, footer
        await pilot.press("enter")  # Enter presses the focused button: the safe one
        assert isinstance(app.screen, JobsScreen)
        assert not [c for c in daemon.calls if c[0] == "jobs.cancel"]
        await pilot.press("c", "y")
        await until(pilot, lambda: ("jobs.cancel", {"job_id": RUNNING_JOB}) in daemon.calls, "the cancel")


async def test_only_applicable_actions_are_offered() -> None:
    app = app_on(RecordedDaemon())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        table.move_cursor(row=table.order.index(_id(DETAIL_JOB)))  # completed
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "r Retry" not in footer and "c Cancel" not in footer and "d Delete" in footer, footer
        table.move_cursor(row=table.order.index(RUNNING_JOB))
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "r Retry" not in footer and "c Cancel" in footer and "d Delete" not in footer, footer

        table.move_cursor(row=table.order.index(_id(DETAIL_JOB)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view, "the job detail")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "r Retry" not in footer and "c Cancel" not in footer and "d Delete" in footer, footer


async def test_new_job_dialog_names_the_activity_or_refuses_it() -> None:
    daemon = Moodle()
    app = app_on(daemon)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewJobDialog), "the new-job dialog")
        dialog = app.screen
        await pilot.press("1", "0", "1", "tab", "1", "0", "1", "1")  # typed at once: each key in its field
        await until(pilot, lambda: "Final exam (quiz, cmid 1011) in Linear Algebra I" in screen_text(app),
                    "the activity's and course's names")  # fmt: skip

        await pilot.press("shift+tab", "backspace", "backspace", "backspace", "9", "9", "9")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "course 999 does not exist in Moodle" in screen_text(app), "the refusal")
        assert app.screen is dialog and not [c for c in daemon.calls if c[0] == "jobs.create"]

        await pilot.press("backspace", "backspace", "backspace", "1", "0", "1")
        await pilot.press("tab", "backspace", "7")  # Tab selects the whole field: one backspace empties it
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "has no activity with cmid 7" in screen_text(app), "the unknown activity")
        assert app.screen is dialog and not [c for c in daemon.calls if c[0] == "jobs.create"]


async def test_new_job_dialog_shows_the_locks_of_the_courses_categories() -> None:
    daemon = CategoryLocks()
    app = app_on(daemon)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewJobDialog), "the new-job dialog")
        await until(pilot, lambda: "Presets [presets.job]" in screen_text(app), "the site's presets")
        assert "category" not in screen_text(app)
        await pilot.press("1", "0", "1", "tab", "1", "0", "1", "1")
        await until(pilot, lambda: "[category_presets.2], [category_presets.3]" in screen_text(app),
                    "the presets of the course's categories")  # fmt: skip
        # The settings' fields are rebuilt after the header line: wait for them too.
        await until(pilot, lambda: "Locked by the preset of category 3" in screen_text(app), "the category's lock")
        described = [params for method, params in daemon.calls if method == "settings.describe"]
        assert described[0].get("course_id") is None and described[-1]["course_id"] == 101


async def test_the_footer_keeps_no_memory_of_what_it_offered_before() -> None:
    """The footer is rebuilt whenever the highlighted job allows other actions; old keys do not pile up."""
    app = app_on(RecordedDaemon())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        for _ in range(100):  # completed ↔ running: the footer changes every time
            table.move_cursor(row=table.order.index(_id(DETAIL_JOB)))
            await pilot.pause()
            table.move_cursor(row=table.order.index(RUNNING_JOB))
            await pilot.pause()
        await settle(pilot)
        gc.collect()
        assert sum(1 for o in gc.get_objects() if isinstance(o, FooterKey)) < 40
