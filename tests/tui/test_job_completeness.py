"""The job detail states the archive's completeness in a line or two, as `archived jobs show` does: a quiz job's
users checked and attempts found, an assignment job's missing participant by name. (A real daemon against the
Moodle simulator, the TUI through Textual's Pilot.)"""

from __future__ import annotations

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from archived_tui.screens.job_detail import JobDetailScreen
from tests.daemon.test_quiz_jobs import MIDTERM, job_detail, run_job, start_daemon
from tests.tui.conftest import make_app, until
from tests.tui.rendered import screen_text

pytestmark = pytest.mark.slow

JOURNAL = {"course_id": 5, "cmid": 7}  # showcase assignment: a departed student's submission is out of reach


@pytest.fixture(scope="module")
def simulator():
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        yield sim


@pytest.fixture(scope="module")
def moodle_daemon(simulator: MoodleSimulator, tmp_path_factory):
    process = start_daemon(tmp_path_factory.mktemp("tui-completeness"), simulator)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


async def test_the_job_detail_states_completeness(moodle_daemon, simulator) -> None:
    quiz_job = await run_job(moodle_daemon, MIDTERM, attempt_states=["abandoned"])
    quiz = (await job_detail(moodle_daemon, quiz_job))["completeness"]
    assign_job = await run_job(moodle_daemon, JOURNAL)
    departed = max(uid for uid, user in simulator.world.users.items() if user.username.startswith("s005"))
    username = simulator.world.users[departed].username

    app = make_app(moodle_daemon.socket)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.link.state.connected, "the connection")
        await app.push_screen(JobDetailScreen(app.ctx, quiz_job))
        await until(pilot, lambda: "✔ complete:" in screen_text(app), "the quiz job's completeness")
        text = screen_text(app)
        assert f"{quiz['users_checked']} users checked, {quiz['attempts_found']} attempts found" in text
        assert "not checked: attempts of users who left the course" in text

        await pilot.press("escape")
        await app.push_screen(JobDetailScreen(app.ctx, assign_job))
        await until(pilot, lambda: "✖ INCOMPLETE:" in screen_text(app), "the assignment job's completeness")
        line = next(line for line in screen_text(app).splitlines() if "incomplete:" in line)
        assert username in line
