"""The archive's completeness as `archived jobs show` states it, and the backup age check of assignment jobs,
through a real daemon process against the Moodle simulator (with the assignment showcase)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from archived.simulator.data.backups import CAPABILITIES, add_backup
from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.daemon.test_quiz_jobs import MIDTERM, job_detail, run_job, start_daemon

pytestmark = pytest.mark.slow

LAB = {"course_id": 2, "cmid": 3}  # the recorded assignment (id 1): 4 submitted, 1 draft, 3 graded
JOURNAL = {"course_id": 5, "cmid": 7}  # showcase: a departed student's grade is in Moodle, their submission is not


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus the assignment showcase; the service user may list and download backups."""
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        with sim.world.lock:
            sim.world.capabilities |= CAPABILITIES
        yield sim


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    process = start_daemon(tmp_path_factory.mktemp("completeness-daemon"), simulator)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


def show(daemon, job_id: str, *extra: str) -> str:
    """`archived jobs show` as an operator runs it."""
    command = [sys.executable, "-m", "archived", "--socket", str(daemon.socket), "jobs", "show", job_id, *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "250"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_jobs_show_states_what_a_quiz_job_checked(daemon) -> None:
    job_id = asyncio.run(run_job(daemon, MIDTERM, attempt_states=["abandoned"]))
    detail = asyncio.run(job_detail(daemon, job_id))
    assert detail["job"]["state"] == "completed", detail["job"]
    completeness = detail["completeness"]
    assert completeness["complete"] is True
    assert completeness["attempts_found"] > 0 and completeness["users_checked"] > 0
    assert completeness["statement"] and completeness["statement"][0].startswith("Users checked:")
    shown = show(daemon, job_id)
    line = next(line for line in shown.splitlines() if line.strip().startswith("checked"))
    assert "complete:" in line
    assert f"{completeness['users_checked']} users checked" in line
    assert f"{completeness['attempts_found']} attempts found" in line
    # No sweep was asked for: what that leaves unchecked is said.
    assert "not checked: attempts of users who left the course" in shown
    assert json.loads(show(daemon, job_id, "--json"))["completeness"] == completeness


def test_jobs_show_names_who_is_missing_from_an_assignment_archive(daemon, simulator) -> None:
    departed = max(uid for uid, user in simulator.world.users.items() if user.username.startswith("s005"))
    job_id = asyncio.run(run_job(daemon, JOURNAL))
    detail = asyncio.run(job_detail(daemon, job_id))
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    assert detail["completeness"]["complete"] is False
    shown = show(daemon, job_id)
    assert "INCOMPLETE:" in shown and "users checked" in shown
    incomplete = next(line for line in shown.splitlines() if line.strip().startswith("incomplete:"))
    assert simulator.world.users[departed].username in incomplete


def assign_last_change(sim: MoodleSimulator, assign_id: int) -> int:
    """The assignment's last change as the assignment driver reckons it (its own, submissions', grades')."""
    times = [sim.world.assigns[assign_id].timemodified or 0]
    times += [s.timemodified or 0 for s in sim.world.submissions.get(assign_id, {}).values()]
    times += [g.timemodified or 0 for g in sim.world.assign_grades.get(assign_id, {}).values()]
    return max(times)


def test_an_assignment_backup_older_than_its_last_change_is_refused(daemon, simulator) -> None:
    add_backup(
        simulator.world, area="activity", filename="backup-moodle2-activity-3-assign1-old.mbz",
        content=b"from before the last grade", timecreated=assign_last_change(simulator, 1) - 2 * 3600,
        courseid=2, cmid=3,
    )  # fmt: skip
    latest = {"backup_source": "latest_automated", "backup_required": True}
    too_old = asyncio.run(job_detail(daemon, asyncio.run(run_job(daemon, LAB, **latest, backup_max_age_hours=1))))
    assert too_old["job"]["state"] == "failed", too_old["job"]
    assert too_old["job"]["error_code"] == "backup_missing"
    assert "older than the activity's last change" in too_old["job"]["error_message"]

    taken = asyncio.run(job_detail(daemon, asyncio.run(run_job(daemon, LAB, **latest, backup_max_age_hours=3))))
    assert taken["job"]["state"] == "completed", taken["job"]
