"""The simulator's assignment answers have the shapes real Moodle 4.5.6 and 5.0 sites gave (recordings of
December 2026): keys, their order, types and nesting of submission status, submissions and grades."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from archived.simulator import MoodleSimulator, SimulatorSize
from tests.simulator.recordings import structure_differences
from tests.simulator.rest import call
from tests.support.fixtures import FIXTURES

LIVE = FIXTURES / "live-2026-12"


def recorded(release: str, name: str) -> Any:
    """The response of one recording."""
    return json.loads(next((LIVE / f"moodle-{release}").glob(f"{name}*.json")).read_text())["response"]


@pytest.fixture(scope="module", params=["4.5", "5.0"])
def showcase(request: pytest.FixtureRequest) -> Iterator[MoodleSimulator]:
    """The assignment showcase in each recorded release."""
    with MoodleSimulator(release=request.param, size=SimulatorSize(assignments=True)) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """An HTTP client."""
    with httpx.Client(timeout=10.0) as http:
        yield http


def journal(sim: MoodleSimulator) -> tuple[int, int]:
    """(assign id, the student with an online text, files, feedback files and an annotated PDF)."""
    assign = next(a for a in sim.world.assigns.values() if a.name.startswith("Lab journal"))
    return assign.id, min(uid for uid in sim.world.submissions[assign.id] if uid > 0)


def test_submission_status_of_a_graded_student_has_the_recorded_shape(showcase, client) -> None:
    assign, student = journal(showcase)
    answer = call(showcase, client, "mod_assign_get_submission_status", assignid=assign, userid=student).json()
    release = showcase.profile.name
    # 5.0/06 holds the plugins this student has (comments, editpdf, file); 05 the rest of the answer.
    name = "06-mod_assign_get_submission_status" if release == "5.0" else "05-mod_assign_get_submission_status"
    assert structure_differences(recorded(release, name), answer) == []
    plugins = [p["type"] for p in answer["feedback"]["plugins"]]
    assert plugins == ["comments", "editpdf", "file"]
    annotated = answer["feedback"]["plugins"][1]["fileareas"][0]
    assert annotated["area"] == "download" and "/assignfeedback_editpdf/download/" in annotated["files"][0]["fileurl"]


def test_submissions_and_grades_have_the_recorded_shape(showcase, client) -> None:
    assign, _ = journal(showcase)
    submissions = call(showcase, client, "mod_assign_get_submissions", assignmentids=[assign]).json()
    grades = call(showcase, client, "mod_assign_get_grades", assignmentids=[assign]).json()
    # One submission each (the recorded one has files, like the showcase's first): the data differ, not the shape.
    expected, actual = recorded("4.5", "06-mod_assign_get_submissions"), submissions
    for answer in (expected, actual):
        answer["assignments"][0]["submissions"] = answer["assignments"][0]["submissions"][:1]
    assert structure_differences(expected, actual) == []
    assert structure_differences(recorded("4.5", "07-mod_assign_get_grades"), grades) == []


def test_a_removed_enrolment_keeps_its_grade_but_loses_submission_and_status(showcase, client) -> None:
    assign, _ = journal(showcase)
    departed = max(g for g in showcase.world.assign_grades[assign])
    assert departed not in showcase.world.enrolments[showcase.world.assigns[assign].course]
    grades = call(showcase, client, "mod_assign_get_grades", assignmentids=[assign]).json()
    assert departed in [g["userid"] for g in grades["assignments"][0]["grades"]]
    submissions = call(showcase, client, "mod_assign_get_submissions", assignmentids=[assign]).json()
    assert departed not in [s["userid"] for s in submissions["assignments"][0]["submissions"]]
    status = call(showcase, client, "mod_assign_get_submission_status", assignid=assign, userid=departed).json()
    assert status["errorcode"] == "nopermission"


def test_team_members_see_the_team_submission_and_previous_attempts_come_newest_first(showcase, client) -> None:
    world = showcase.world
    project = next(a for a in world.assigns.values() if a.teamsubmission)
    member = world.groups[next(-key for key in world.submissions[project.id] if key < 0)].members[0]
    status = call(showcase, client, "mod_assign_get_submission_status", assignid=project.id, userid=member).json()
    assert status["lastattempt"]["teamsubmission"]["userid"] == 0 and "submission" not in status["lastattempt"]
    assert status["feedback"]["gradefordisplay"] == "Good"
    assign, _ = journal(showcase)
    second = sorted(uid for uid in world.submissions[assign] if uid > 0)[1]
    status = call(showcase, client, "mod_assign_get_submission_status", assignid=assign, userid=second).json()
    assert [a["attemptnumber"] for a in status["previousattempts"]] == [0]
    assert status["previousattempts"][0]["grade"]["grade"] == "40.00000"


def test_blind_marking_hides_identities_from_the_participant_list(showcase, client) -> None:
    assign, student = journal(showcase)
    listed = call(showcase, client, "mod_assign_list_participants", assignid=assign, groupid=0, filter="").json()
    assert student in [p["id"] for p in listed] and not any("username" in p or "email" in p for p in listed)


def test_files_of_a_removed_enrolment_answer_404(showcase, client) -> None:
    world = showcase.world
    assign, _ = journal(showcase)
    departed = max(g for g in world.assign_grades[assign])
    stored = world.submissions[assign][departed].files[0]
    url = (f"{showcase.url}/webservice/pluginfile.php/{stored.contextid}/{stored.component}/{stored.filearea}/"
           f"{stored.itemid}/{stored.filename}?token={showcase.token}")  # fmt: skip
    assert client.get(url).status_code == 404
    kept = world.submissions[assign][min(u for u in world.submissions[assign] if u > 0)].files[0]
    assert (
        client.get(url.replace(f"/{stored.itemid}/{stored.filename}", f"/{kept.itemid}/{kept.filename}")).status_code
        == 200
    )
