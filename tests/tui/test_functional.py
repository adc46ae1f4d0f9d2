"""The TUI against a real daemon process, driven like an operator would: keys (and a click), no mocks.

Each test starts `archived daemon` on a temporary store with the test-only `slowtest` activity driver and
the `slowlocal` storage driver, whose speed and failures the tests control.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select

from archived.protocol import wire
from archived.simulator.simulator import MoodleSimulator
from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.dialogs.delete_job import DeleteJobDialog
from archived_tui.dialogs.new_job import NewJobDialog
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.activity_table import ActivityTable
from archived_tui.widgets.banner import ConnectionBanner
from archived_tui.widgets.category_tree import CategoryTree
from archived_tui.widgets.course_table import CourseTable
from archived_tui.widgets.job_table import JobTable
from archived_tui.widgets.setting_field import SettingField
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.conftest import blocking_call, make_app, notifications, until
from tests.tui.rendered import screen_text

SIZE = (120, 40)


def jobs_screen(app) -> JobsScreen:
    """The jobs screen (after pressing 3)."""
    assert isinstance(app.screen, JobsScreen), type(app.screen)
    return app.screen


def table_state(app, job_id: str) -> str | None:
    """The state the jobs table shows for a job (None: not shown)."""
    job = app.screen.query_one(JobTable).items.get(job_id)
    return job.state if job else None


async def test_start_a_job_watch_it_complete_and_open_its_detail(daemon) -> None:
    """Courses without Moodle say so; a job started from the dialog runs, completes, and its detail is right."""
    app = make_app(daemon.socket, log_page_size=4)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("2")
        await until(pilot, lambda: "course overview not available: no Moodle configured" in screen_text(app),
                    "the note that there is no course overview")  # fmt: skip

        await pilot.press("3", "n")
        await until(pilot, lambda: isinstance(app.screen, NewJobDialog), "the new-job dialog")
        dialog = app.screen
        await pilot.press("2", "tab", "7", "tab")  # course id, cmid, then the driver list
        await pilot.press("enter", "s", "enter")  # open the list of drivers, type to find slowtest, choose it
        assert dialog.query_one("#driver", Select).value == "slowtest"
        await until(pilot, lambda: dialog.query("#setting-delay_seconds"), "the slowtest settings")
        dialog.query_one("#setting-delay_seconds", Input).focus()
        await pilot.press(*"0.25")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), "the dialog to close")

        table = app.screen.query_one(JobTable)
        await until(pilot, lambda: table.items, "the new job in the table")
        job_id = table.order[0]
        seen: set[str] = set()

        def finished() -> bool:
            state = table_state(app, job_id)
            seen.add(state or "")
            return state == "completed"

        await until(pilot, finished, "the job to complete")
        assert seen & {"queued", "activity_archiving", "post_processing", "store", "cleanup"}, seen

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view is not None,
                    "the job detail")  # fmt: skip
        detail = app.screen
        assert detail.view.job.id == job_id and detail.view.job.state == "completed"
        async with daemon.client() as client:
            truth = await client.call("jobs.get", {"job_id": job_id})
        assert detail.view.job.settings["activity"]["delay_seconds"] == 0.25
        assert [t.to_state for t in detail.view.timeline] == [t["to"] for t in truth["timeline"]]
        await until(pilot, lambda: "job ended: completed" in detail.log_tail.text(), "the end of the log")
        async with daemon.client() as client:
            whole_log = (await client.call("jobs.logs", {"job_id": job_id, "limit": 1000}))["entries"]
        assert len(detail.log_tail.entries) == 4 and len(whole_log) > 8
        while detail.log_tail.has_older:  # page backwards to the start
            shown = len(detail.log_tail.entries)
            await pilot.press("o")
            await until(pilot, lambda shown=shown: len(detail.log_tail.entries) > shown, "an older page of the log")
        assert [e.id for e in detail.log_tail.entries] == sorted(e["id"] for e in whole_log)
        assert "start of the log" in screen_text(app)

        await pilot.press("a")
        sha = truth["artifacts"][0]["sha256"]
        location = truth["artifacts"][0]["locations"][0]["location"]
        await until(pilot, lambda: sha in screen_text(app), "the artifact's SHA-256")
        text = screen_text(app)
        assert location in text and "checksum matches" in text
        await pilot.press("t")
        await until(pilot, lambda: "cleanup done: completed" in screen_text(app), "the timeline")

        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_a_failed_job_is_retried_from_the_tui_and_completes(daemon_factory, tmp_path: Path) -> None:
    """A storage outage fails the job after its retries; after the outage, `r` in the detail completes it."""
    outage = tmp_path / "outage"
    outage.touch()
    daemon = daemon_factory(**{"storage.local.driver": "slowlocal", "storage.local.fail_file": str(outage)})
    async with daemon.client() as client:
        job_id = await create_job(client, files=2)
        failed = await wait_for_state(client, job_id, TERMINAL)
    assert failed["state"] == "failed" and failed["error_code"] == "storage_unavailable"

    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3", "f", "f")  # filter: all → active → failed
        screen = jobs_screen(app)
        assert screen.state_filter.name == "failed"
        await until(pilot, lambda: table_state(app, job_id) == "failed", "the failed job")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view is not None,
                    "the job detail")  # fmt: skip
        assert "simulated outage" in screen_text(app)

        outage.unlink()
        await pilot.press("r")
        detail = app.screen
        await until(pilot, lambda: detail.view.job.state == "completed", "the retried job to complete")
        assert any("retry requested by operator:root" in t.reason for t in detail.view.timeline)
        assert any("Job" in n and "queued again" in n for n in notifications(app))

        await pilot.press("escape")  # back on the failed-only table the completed job has left
        await until(pilot, lambda: table_state(app, job_id) is None, "the job to leave the failed filter")


async def test_the_daemon_going_away_shows_a_banner_and_the_tui_reconnects(daemon) -> None:
    """Kill the daemon: banner. Restart: the TUI reconnects, refetches what changed meanwhile, resubscribes."""
    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3")
        first_generation = app.link.state.generation
        banner = app.screen.query_one(ConnectionBanner)
        assert not banner.has_class("-visible")

        daemon.kill()
        await until(pilot, lambda: banner.has_class("-visible"), "the banner")
        assert "Daemon unreachable — reconnecting" in screen_text(app)
        assert "disconnected" in screen_text(app)

        # Restart and queue a job before the TUI may run again: only a refetch can show it.
        daemon.restart()
        request = {"course_id": 2, "cmid": 11, "driver": "slowtest", "settings": {}}
        early = blocking_call(daemon.socket, "jobs.create", request)["job"]["id"]
        await until(pilot, lambda: app.link.state.connected, "the reconnect")
        assert app.link.state.generation == first_generation + 1
        await until(pilot, lambda: not banner.has_class("-visible"), "the banner to go")
        await until(pilot, lambda: table_state(app, early) is not None, "the job made while disconnected")

        async with daemon.client() as client:  # made after the reconnect: arrives as events
            late = await create_job(client, cmid=12, files=2)
        await until(pilot, lambda: table_state(app, late) == "completed", "the new job's events")
        await until(pilot, lambda: table_state(app, early) == "completed", "the refetched job's events")


async def test_a_refused_action_shows_the_daemons_message(daemon_factory) -> None:
    """Without operator rights the TUI says read-only, and a retry shows why the daemon refused it."""
    daemon = daemon_factory()
    async with daemon.client() as client:
        job_id = await create_job(client, fatal=True)
        await wait_for_state(client, job_id, TERMINAL)
    daemon.kill()
    daemon = daemon_factory(**{"access.operator_users": [], "access.allow_daemon_user": False})

    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "read-only" in screen_text(app), "the connection, read-only")
        await pilot.press("3")
        await until(pilot, lambda: table_state(app, job_id) == "failed", "the failed job")
        await pilot.press("r")
        await until(pilot, lambda: any("not an operator" in n for n in notifications(app)), "the refusal")
        refusal = next(n for n in notifications(app) if "not an operator" in n)
        assert refusal.startswith(f"Retry job {job_id[:8]}: user root (uid 0) may not call jobs.retry")


async def test_cancel_and_delete_ask_first_and_say_what_is_deleted(daemon) -> None:
    """Cancel needs a yes; delete lists the stored copy, asks for force within retention, and removes it; the job's
    record stays, so its row does too, marked deleted."""
    async with daemon.client() as client:
        done = await create_job(client, cmid=8, files=1)
        await wait_for_state(client, done, {"completed"})
        running = await create_job(client, cmid=9, files=200, delay_seconds=0.2)
        await wait_for_state(client, running, {"activity_archiving"})
        stored = (await client.call("jobs.get", {"job_id": done}))["artifacts"][0]["locations"][0]["location"]
    archive = daemon.root / "archive" / stored
    assert archive.exists()

    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3")
        table = app.screen.query_one(JobTable)
        await until(pilot, lambda: running in table.items and done in table.items, "both jobs")

        table.move_cursor(row=table.order.index(running))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the cancel question")
        assert "nothing is stored" in screen_text(app)
        await pilot.press("escape")  # keep it running
        await pilot.pause(0.2)
        assert table_state(app, running) == "activity_archiving"
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the cancel question")
        await pilot.press("y")
        await until(pilot, lambda: table_state(app, running) == "canceled", "the cancel")

        table.move_cursor(row=table.order.index(done))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteJobDialog), "the delete dialog")
        text = screen_text(app)
        assert "This permanently deletes from storage" in text and stored in text
        assert "retained until" in text and "The job record, its timeline and its log stay" in text
        await pilot.click("#force")
        await pilot.click("#delete")
        await until(pilot, lambda: done in table.items and table.items[done].deleted, "the job marked deleted")
        await pilot.pause(2.5)  # past the table's resync with the daemon's count: the row stays
        assert table.items[done].deleted and "⌫ deleted" in screen_text(app)
    assert not archive.exists()


async def test_tables_load_page_by_page(daemon) -> None:
    """With 45 jobs and pages of 10, the table grows as the cursor nears the end, without duplicates."""
    async with daemon.client() as client:
        ids = [await create_job(client, cmid=100 + n, fatal=True) for n in range(45)]
        for job_id in ids:
            await wait_for_state(client, job_id, TERMINAL)

    app = make_app(daemon.socket, page_size=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await pilot.press("3")
        table = app.screen.query_one(JobTable)
        await until(pilot, lambda: table.total == 45, "the first page")
        assert len(table.order) < 45  # a screenful and a bit: the rest is not loaded
        while len(table.order) < 45:
            await pilot.press("pagedown")
            await pilot.pause(0.05)
        assert table.order == list(reversed(ids)) and "45 of 45 jobs" in screen_text(app)

        cursor_on = table.selected
        async with daemon.client() as client:  # a new job goes to the top; the cursor stays on its job
            newest = await create_job(client, cmid=200, fatal=True)
        await until(pilot, lambda: table.order[:1] == [newest] and table.total == 46, "the new job at the top")
        assert cursor_on is not None and table.selected is not None and table.selected.id == cursor_on.id
        assert [table.get_row_at(i)[0].plain for i in range(3)] == [j[:8] for j in table.order[:3]]


async def test_an_incompatible_daemon_gets_a_clear_message(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TUI that speaks another protocol version says so (and keeps checking)."""
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", 99)
    app = make_app(daemon.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.state.status == "incompatible", "the incompatibility")
        text = screen_text(app)
        assert "Incompatible daemon." in text and "the client speaks 99" in text
        assert "incompatible daemon" in text  # the navigation bar


async def test_browse_to_an_activity_archive_it_and_see_its_badge(daemon_factory, tmp_path: Path) -> None:
    """Against the Moodle simulator: category → course → activity, archive it, follow the job, see the badge."""
    with MoodleSimulator(seed=1, release="4.5") as sim:
        token = tmp_path / "moodle-token"
        token.write_text(sim.token + "\n")
        token.chmod(0o600)
        daemon = daemon_factory(**{"moodle.url": sim.url, "moodle.token_file": str(token),
                                   "moodle.requests_per_second": 0, "workers.render_processes": 2})  # fmt: skip
        app = make_app(daemon.socket, initial_mode="courses")
        async with app.run_test(size=SIZE) as pilot:
            courses = app.screen.query_one(CourseTable)
            await until(pilot, lambda: courses.total == 3, "the courses", timeout=60)
            tree = app.screen.query_one(CategoryTree)
            tree.focus()
            while tree.cursor_node is None or "Exams" not in str(tree.cursor_node.label):
                await pilot.press("down")
            await pilot.press("enter")  # only the courses of "Exams"
            await until(pilot, lambda: courses.total == 2 and app.focused is courses, "the category's courses")
            courses.move_cursor(row=courses.order.index("2"))
            await pilot.press("enter")  # to the activities of EXAM-WS2026
            activities = app.screen.query_one(ActivityTable)
            await until(pilot, lambda: app.focused is activities and "2" in activities.items, "the activities")
            assert activities.items["2"].badge == "never" and activities.items["1"].badge == "unsupported"

            activities.move_cursor(row=activities.order.index("1"))
            await pilot.press("a")  # a resource: no driver
            await until(pilot, lambda: any("cannot be archived" in n for n in notifications(app)), "the refusal")
            activities.move_cursor(row=activities.order.index("2"))
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, NewJobDialog) and app.screen.query(SettingField),
                        "the dialog with the quiz's settings")  # fmt: skip
            assert app.screen.query_one("#setting-retention_years").disabled  # locked by the preset
            await pilot.press("ctrl+s")
            await until(pilot, lambda: any("queued for Final exam" in n for n in notifications(app)), "the job")

            await pilot.press("3")
            table = app.screen.query_one(JobTable)
            await until(pilot, lambda: table.items, "the job in the table")
            job_id = table.order[0]
            await until(pilot, lambda: table_state(app, job_id) in TERMINAL, "the quiz job to end", timeout=180)
            assert table_state(app, job_id) == "completed"
            await pilot.press("enter", "a")
            await until(pilot, lambda: "checksum matches" in screen_text(app), "the artifact")

            await pilot.press("2")  # the badge followed the job
            await until(pilot, lambda: activities.items["2"].badge == "archived", "the new badge")
            assert activities.items["2"].last_archive.job_id == job_id
            await pilot.press("b")  # badge filter: archived
            await until(pilot, lambda: courses.total == 1 and "2" in courses.items, "the archived course")
