"""The size knob: parsing, generated courses, and a quiz with 2,000 attempts built lazily."""

from __future__ import annotations

import httpx
import pytest

from archived.simulator import MoodleSimulator, SimulatorSize
from tests.simulator.rest import call


def test_parse_key_value_pairs_and_presets() -> None:
    """`courses=3,students=40,attempts=2` and the named presets."""
    size = SimulatorSize.parse("courses=3, students=40, attempts=2, ungraded=0.25")
    assert (size.courses, size.students, size.attempts_per_student, size.ungraded) == (3, 40, 2, 0.25)
    assert SimulatorSize.parse("bench").attempts_per_quiz == 2000
    assert SimulatorSize.parse("default") == SimulatorSize()


@pytest.mark.parametrize("text", ["courses", "lessons=3", "courses=-1", "attempts=11", "ungraded=2"])
def test_parse_rejects_bad_sizes(text: str) -> None:
    """Unknown keys, missing values and out-of-range numbers are refused with the accepted syntax."""
    with pytest.raises(ValueError, match=r"courses|must|shares"):
        SimulatorSize.parse(text)


def test_generated_courses_over_http(client: httpx.Client) -> None:
    """Generated courses sit in their own category with students, a reference-like quiz and an assignment."""
    size = SimulatorSize(courses=2, students=5, attempts_per_student=2, inprogress=0.0)
    with MoodleSimulator(seed=2, size=size) as sim:
        courses = call(sim, client, "core_course_get_courses_by_field", field="category", value=4).json()["courses"]
        assert [c["shortname"] for c in courses] == ["GEN001-WS2026", "GEN002-WS2026"]
        courseid = courses[0]["id"]
        users = call(sim, client, "core_enrol_get_enrolled_users", courseid=courseid).json()
        students = [u for u in users if u["roles"][0]["shortname"] == "student"]
        assert len(students) == 5
        quiz = call(sim, client, "mod_quiz_get_quizzes_by_courses", courseids=[courseid]).json()["quizzes"][0]
        assert quiz["sumgrades"] == 24
        attempts = call(
            sim, client, "mod_quiz_get_user_attempts", quizid=quiz["id"], userid=students[0]["id"], status="all"
        ).json()["attempts"]
        assert [a["attempt"] for a in attempts] == [1, 2]
        review = call(sim, client, "mod_quiz_get_attempt_review", attemptid=attempts[0]["id"]).json()
        assert [q["type"] for q in review["questions"]][5:] == [
            "multichoice",
            "match",
            "calculatedsimple",
            "ddwtos",
            "multianswer",
            "essay",
        ]
        assert "triangle%20diagram.png" in review["questions"][5]["html"]
        expected = sim.attempt_expectations(attempts[0]["id"])
        assert expected.username == students[0]["username"]
        assignments = call(
            sim, client, "mod_assign_get_assignments", courseids=[courseid], includenotenrolledcourses=1
        ).json()["courses"][0]["assignments"]
        assert len(assignments) == 1


def test_a_quiz_with_2000_attempts() -> None:
    """`courses=1,students=2000,attempts=1`: one quiz with 2,000 attempts; details are generated on demand."""
    with MoodleSimulator(seed=1, size=SimulatorSize.parse("bench")) as sim, httpx.Client(timeout=30) as client:
        generated = [q for q in sim.world.quizzes.values() if q.id > 2]
        assert len(generated) == 1
        attempts = sim.world.quiz_attempts(generated[0].id)
        assert len(attempts) == 2000
        assert len({a.userid for a in attempts}) == 2000
        last = attempts[-1]
        review = call(sim, client, "mod_quiz_get_attempt_review", attemptid=last.id).json()
        assert review["attempt"]["userid"] == last.userid and len(review["questions"]) == 11
        listed = call(sim, client, "mod_quiz_get_user_attempts", quizid=generated[0].id, userid=last.userid).json()
        assert [a["id"] for a in listed["attempts"]] == [last.id]
