"""Assignments in the course overview (through a real daemon's socket, the simulator over HTTP): supported,
archivable once there is a submission, and changed when a submission or grade is modified after the archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import moodle_overrides

SHOWCASE = 5
JOURNAL, PROJECT = 7, 8


@pytest.fixture
def simulator() -> Iterator[MoodleSimulator]:
    """The recorded site plus the assignment showcase."""
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        yield sim


async def activities(client, course_id: int, *, refresh: bool = False) -> dict[int, dict]:
    """The course's activities by cmid, as the overview shows them."""
    if refresh:
        await client.call("courses.refresh", {"course_id": course_id, "force": True})
    course = await client.call("courses.show", {"course_id": course_id})
    return {a["cmid"]: a for a in course["activities"]}


async def test_assignments_are_supported_archivable_and_change_detected(
    daemon_factory, simulator: MoodleSimulator, tmp_path: Path
) -> None:
    daemon = daemon_factory(**moodle_overrides(tmp_path, simulator))
    async with daemon.client() as client:
        shown = await activities(client, SHOWCASE)
        journal = shown[JOURNAL]
        assert journal["modname"] == "assign" and journal["driver"] == "assign"
        assert journal["badge"] == "never" and journal["archivable"] and journal["fingerprint"]
        recorded = (await activities(client, 2))[3]  # the recorded site's assignment: no longer "unsupported"
        assert recorded["driver"] == "assign" and recorded["badge"] == "never"

        answer = await client.call("jobs.create", {"course_id": SHOWCASE, "cmid": JOURNAL})
        assert answer["job"]["driver"] == "assign"
        job = await wait_for_state(client, answer["job"]["id"], TERMINAL, timeout=240)
        assert job["state"] == "completed", job
        assert (await activities(client, SHOWCASE))[JOURNAL]["badge"] == "archived"

        # A teacher regrades after the archive: the newest grade modification changes the fingerprint.
        world = simulator.world
        assign = next(a for a in world.assigns.values() if a.cmid == JOURNAL)
        with world.lock:
            grades = world.assign_grades[assign.id]
            grade = next(iter(grades.values()))
            grade.timemodified = max(g.timemodified for g in grades.values()) + 60  # regraded now
        before = simulator.stats.count("mod_assign_get_submissions")
        assert (await activities(client, SHOWCASE, refresh=True))[JOURNAL]["badge"] == "changed"
        assert simulator.stats.count("mod_assign_get_submissions") == before + 1  # one listing for both assignments

        # Without a submission an assignment is not archivable yet, and the overview says why.
        project = next(a for a in world.assigns.values() if a.cmid == PROJECT)
        with world.lock:
            world.submissions[project.id] = {}
        project_shown = (await activities(client, SHOWCASE, refresh=True))[PROJECT]
        assert not project_shown["archivable"] and project_shown["reason"] == "no submissions yet"
