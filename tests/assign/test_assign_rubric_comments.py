"""Rubric fillings and submission comments in assignment archives, through a real daemon process against the
Moodle simulator over HTTP: shown in the participant's PDF/A, kept as Moodle's answers, and — when the token
lacks the functions or Moodle refuses them — said in job.json and README.txt."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from archived.simulator.data.assignments import GRADING_AND_COMMENT_FUNCTIONS
from archived.simulator.data.model import Comment
from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.assign.test_assign_daemon import JOURNAL, rows, run_job, showcase_students, unpacked, verify
from tests.support.daemon import DaemonProcess, write_config
from tests.support.simulator import moodle_overrides, pdf_text, squash

COMMENTS = "core_comment_get_comments"
INSTANCES = "core_grading_get_gradingform_instances"


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus the assignment showcase (its journal has a rubric and submission comments)."""
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        yield sim


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    """One daemon for the module's tests."""
    root = tmp_path_factory.mktemp("assign-rubric")
    process = DaemonProcess(write_config(root, **moodle_overrides(root, simulator)), root)
    process.start(timeout=60)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


def completeness_of(data: Path) -> dict:
    """summary.completeness of job.json."""
    return json.loads((data / "job.json").read_text())["summary"]["completeness"]


def test_the_graded_participant_report_shows_the_filled_rubric_and_every_submission_comment(
    daemon, simulator, tmp_path
):
    first = showcase_students(simulator)[0]
    simulator.world.comments_perpage = 1  # two comments come on two pages
    before = simulator.request_count(COMMENTS)
    try:
        detail = asyncio.run(run_job(daemon, JOURNAL))
    finally:
        simulator.world.comments_perpage = 15
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    table = rows(data)
    text = squash(pdf_text(data / table[first]["path"]))
    # The rubric: each criterion with the chosen level, its score of the best, and the grader's remark.
    for phrase in ("Rubric: Lab journal rubric", "Method: how the period was measured", "Ten swings timed, repeated",
                   "4 / 4", "Ten swings, three runs: good.", "Analysis: uncertainty and comparison with theory",
                   "Compared, uncertainty estimated", "3 / 4", "Error bars missing in the plot.",
                   "Filled in by Erika Mustermann (emustermann, user 11)", "total 7 of 8 points"):  # fmt: skip
        assert squash(phrase) in text, phrase
    # Both comments, across both pages, with their authors as the archive names people; HTML rendered as text.
    assert squash("Submission comments") in text
    assert squash("Is the second data file needed as well?") in text
    assert squash("Yes, please keep periods.csv: the rubric asks for the raw data.") in text
    assert squash("Erika Mustermann (emustermann, user 11)") in text
    assert "<strong>" not in text
    # Moodle's answers as they came: the definition and instances for the assignment, the comment pages beside
    # the participant's report.
    moodle = data / "moodle"
    definitions = json.loads((moodle / "core_grading_get_definitions.json").read_text())
    assert definitions["areas"][0]["activemethod"] == "rubric"
    instances = json.loads((moodle / f"{INSTANCES}.json").read_text())
    assert [i["rawgrade"] for i in instances["instances"]] == ["87.50000"]
    pages = json.loads(next((data / Path(table[first]["path"]).parent).rglob(f"{COMMENTS}.json")).read_text())
    assert [len(page["comments"]) for page in pages] == [1, 1]
    # Other participants have no rubric filled in and no comments; the other submissions were asked once each.
    second = squash(pdf_text(data / table[showcase_students(simulator)[1]]["path"]))
    assert squash("Rubric:") not in second and squash("Submission comments") not in second
    assert simulator.request_count(COMMENTS) - before >= 2
    completeness = completeness_of(data)
    assert not set(GRADING_AND_COMMENT_FUNCTIONS) & set(completeness["missing_optional_functions"])
    assert completeness["refused_optional_functions"] == []
    assert not [n for n in completeness["not_deliverable"] if "rubric" in n or "comment" in n]


def test_a_token_without_the_functions_makes_the_archive_say_so(daemon, simulator, tmp_path):
    first = showcase_students(simulator)[0]
    offered = list(simulator.world.service.functions)
    simulator.set_service_functions([f for f in offered if f not in GRADING_AND_COMMENT_FUNCTIONS])
    before = simulator.request_count(COMMENTS)
    try:
        detail = asyncio.run(run_job(daemon, JOURNAL))
    finally:
        simulator.set_service_functions(offered)
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    assert simulator.request_count(COMMENTS) == before
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    missing = completeness_of(data)["missing_optional_functions"]
    assert set(GRADING_AND_COMMENT_FUNCTIONS) <= set(missing)
    readme = next(data.parent.glob("README.txt")).read_text()
    assert all(name in readme for name in GRADING_AND_COMMENT_FUNCTIONS)
    assert any(COMMENTS in message for _, message in detail["log"])
    text = squash(pdf_text(data / rows(data)[first]["path"]))
    assert squash("Rubric:") not in text and squash("Is the second data file needed") not in text


def test_fillings_moodle_refuses_are_named_in_the_report_and_in_job_json(daemon, simulator, tmp_path):
    first = showcase_students(simulator)[0]
    simulator.revoke("moodle/grade:managegradingforms")
    try:
        detail = asyncio.run(run_job(daemon, JOURNAL))
    finally:
        simulator.grant("moodle/grade:managegradingforms")
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    refused = completeness_of(data)["refused_optional_functions"]
    assert [r["function"] for r in refused] == [INSTANCES] and "nopermissions" in refused[0]["reason"]
    assert any(level == "warning" and INSTANCES in message for level, message in detail["log"])
    text = squash(pdf_text(data / rows(data)[first]["path"]))
    assert squash("This assignment is graded with the rubric 'Lab journal rubric'") in text
    assert squash("Is the second data file needed as well?") in text  # comments are still read


def test_a_hostile_comment_is_archived_as_text_and_runs_nothing(daemon, simulator, tmp_path):
    third = showcase_students(simulator)[2]
    world = simulator.world
    journal = next(a for a in world.assigns.values() if a.cmid == JOURNAL["cmid"])
    submission = world.submissions[journal.id][third]
    hostile = Comment(
        99, journal.contextid, "assignsubmission_comments", "submission_comments", submission.id,
        '<p onmouseover="steal()">Marked \x1b[2J <b>late</b></p><script>alert("x")</script>'
        '<img src="javascript:alert(1)" onerror="alert(2)"><iframe src="https://evil.example/"></iframe>',
        1, third, journal.timemodified,
    )  # fmt: skip
    world.comments.append(hostile)
    try:
        detail = asyncio.run(run_job(daemon, JOURNAL))
    finally:
        world.comments.remove(hostile)
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    text = pdf_text(data / rows(data)[third]["path"])
    assert squash("Marked") in squash(text) and "late" in text
    assert "alert" not in text and "steal" not in text and "\x1b" not in text
    assert any("submission comment" in message and "script" in message for _, message in detail["log"])
