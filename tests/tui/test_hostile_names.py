"""Names from Moodle and the daemon in the TUI: shown literally everywhere, never markup, no control sequences.

Against a real daemon on a simulated Moodle site whose names look like markup (`Algebra [/b]`, `[red]x[/red]`,
`[bold`, `[link=…]`) or carry terminal controls (`ESC[2J`, an OSC title, U+009B, U+202E, NUL): the tables, the
category tree, border titles, the job detail, the log, toasts and the command palette show them (controls as
visible escapes), nothing crashes, and nothing the terminal would act on is rendered.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from archived.simulator.simulator import MoodleSimulator
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.widgets.activity_table import ActivityTable
from archived_tui.widgets.course_table import CourseTable
from archived_tui.widgets.job_table import JobTable
from tests.support.hostile_names import (
    ALGEBRA_SHORT,
    ALGEBRA_SHOWN,
    COURSE_2,
    COURSE_3,
    EXAM_SHORT,
    EXAM_SHOWN,
    FINAL_CMID,
    FINAL_SHOWN,
    MIDTERM,
    MIDTERM_CMID,
    RULES_CMID,
    RULES_SHOWN,
    SCIENCE,
    assert_terminal_safe,
    hostile_site,
)
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.simulator import moodle_overrides
from tests.tui.conftest import make_app, notifications, until
from tests.tui.rendered import screen_text

SIZE = (200, 50)


def shown(app) -> str:
    """The screen's text, after checking that nothing in it would drive the terminal."""
    text = screen_text(app)
    assert_terminal_safe(text)
    return text


def toasts(app) -> list[str]:
    """The toasts on the screen as rendered (not the messages given to `notify`)."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def test_courses_tree_tables_toast_and_palette_show_names_literally(daemon_factory, tmp_path: Path) -> None:
    with hostile_site(MoodleSimulator(seed=1, release="4.5")) as sim:
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim))
        app = make_app(daemon.socket, initial_mode="courses")
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            courses = app.screen.query_one(CourseTable)
            await until(pilot, lambda: courses.total == 3, "the courses", timeout=60)
            text = shown(app)
            for name in (SCIENCE, EXAM_SHORT, EXAM_SHOWN, ALGEBRA_SHORT, ALGEBRA_SHOWN, "Exams \\x1b[2J"):
                assert name in text, text

            courses.move_cursor(row=courses.order.index(str(COURSE_2)))
            activities = app.screen.query_one(ActivityTable)
            await until(pilot, lambda: str(RULES_CMID) in activities.items, "course 2's activities")
            text = shown(app)
            assert RULES_SHOWN in text and FINAL_SHOWN in text
            assert f"Activities · {EXAM_SHORT} · read from Moodle" in text  # the border title

            activities.focus()
            activities.move_cursor(row=activities.order.index(str(RULES_CMID)))
            await pilot.press("a")  # a resource cannot be archived: the toast names it
            await until(pilot, lambda: any("cannot be archived" in n for n in notifications(app)), "the refusal")
            await until(pilot, lambda: toasts(app), "the toast")
            assert any(f"{RULES_SHOWN} cannot be archived" in toast for toast in toasts(app)), toasts(app)
            shown(app)

            activities.move_cursor(row=activities.order.index(str(FINAL_CMID)))
            await pilot.press("ctrl+p")
            await until(pilot, lambda: app.screen.query(Input), "the command palette")
            await pilot.press(*"archive activity")
            await until(pilot, lambda: f"course: archive activity {FINAL_SHOWN}…" in shown(app), "the palette entry")


async def test_jobs_detail_log_and_finished_toast_show_names_literally(daemon_factory, tmp_path: Path) -> None:
    with hostile_site(MoodleSimulator(seed=1, release="4.5")) as sim:
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim))
        app = make_app(daemon.socket, initial_mode="jobs")
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(pilot, lambda: app.link.state.connected, "the connection")
            table = app.screen.query_one(JobTable)
            async with daemon.client() as client:
                request = {"course_id": COURSE_3, "cmid": MIDTERM_CMID, "settings": {}}
                midterm = (await client.call("jobs.create", request))["job"]["id"]
                # The toast shows for a few seconds after the job ends: look at it before anything else.
                await until(pilot, lambda: any(MIDTERM in t for t in toasts(app)), "the toast of the job", timeout=120)
                assert any(f"{midterm[:8]} {MIDTERM} (Algebra [/b] " in toast for toast in toasts(app)), toasts(app)
                request = {"course_id": COURSE_2, "cmid": FINAL_CMID, "settings": {}}
                final = (await client.call("jobs.create", request))["job"]["id"]
                await client.call("jobs.cancel", {"job_id": final})
                await wait_for_state(client, final, TERMINAL, timeout=120)
            await until(pilot, lambda: {midterm, final} <= set(table.items), "both jobs in the table")
            await until(pilot, lambda: table.items[final].state in TERMINAL, "the canceled job's state")
            text = shown(app)
            assert MIDTERM in text and FINAL_SHOWN in text and EXAM_SHOWN in text

            table.move_cursor(row=table.order.index(final))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view, "the detail")
            text = shown(app)
            assert f"{FINAL_SHOWN} (cmid {FINAL_CMID}, quiz) in {EXAM_SHOWN} (id {COURSE_2})" in text

            await pilot.press("escape")
            table.move_cursor(row=table.order.index(midterm))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view, "the detail")
            detail = app.screen
            await until(pilot, lambda: "job ended: completed" in detail.log_tail.text(), "the log")
            text = shown(app)
            assert f"{MIDTERM} (cmid {MIDTERM_CMID}, quiz) in Algebra [/b] " in text
            # The driver's log line quotes the quiz name (the log wraps it on the screen).
            assert f"({MIDTERM}) to archive" in detail.log_tail.text() and f"({MIDTERM})" in text


async def test_a_failed_jobs_archive_shows_as_built_not_stored(daemon_factory, tmp_path: Path) -> None:
    outage = tmp_path / "outage"
    outage.touch()
    daemon = daemon_factory(**{"storage.local.driver": "slowlocal", "storage.local.fail_file": str(outage)})
    async with daemon.client() as client:
        job_id = await create_job(client, files=2)
        failed = await wait_for_state(client, job_id, TERMINAL)
        built = (await client.call("jobs.get", {"job_id": job_id}))["artifacts"]
    assert failed["state"] == "failed" and len(built) == 1 and not built[0]["locations"]

    app = make_app(daemon.socket, initial_mode="jobs")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(JobTable)
        await until(pilot, lambda: job_id in table.items, "the failed job")
        await pilot.press("enter", "a")
        await until(pilot, lambda: built[0]["sha256"] in screen_text(app), "the artifacts tab")
        text = screen_text(app)
        assert f"{built[0]['name']}  built, not stored" in text
        assert "No storage target confirmed a copy before the job ended failed. Retry the job (r)" in text
        assert "stored on" not in text and "retained until" not in text
