"""Assignment jobs through a real daemon process against the Moodle simulator over HTTP.

The daemon finds the assignment driver through its entry point, like an operator's `jobs.create` would; the
archive is read back from the storage folder, verified with `archived verify` and its PDFs read with pdftotext.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import archive_payload, moodle_overrides, pdf_text, squash

LAB = {"course_id": 2, "cmid": 3}  # the recorded assignment: 4 submitted, 1 draft, 3 graded


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus the assignment showcase course."""
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        yield sim


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    """One daemon for the module's tests."""
    root = tmp_path_factory.mktemp("assign-daemon")
    config = write_config(root, **moodle_overrides(root, simulator))
    process = DaemonProcess(config, root)
    process.start(timeout=60)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


async def run_job(daemon: DaemonProcess, target: dict[str, int], **settings: Any) -> dict[str, Any]:
    """Create a job for an assignment (the daemon picks the driver), wait for its end; its detail and log."""
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**target, "settings": settings})
        job_id = str(answer["job"]["id"])
        await wait_for_state(client, job_id, TERMINAL, timeout=180)
        return await detail_of(daemon, job_id)


async def detail_of(daemon: DaemonProcess, job_id: str) -> dict[str, Any]:
    """`jobs.get` plus the job's log lines (oldest first)."""
    async with daemon.client() as client:
        detail = await client.call("jobs.get", {"job_id": job_id})
        logs = await client.call("jobs.logs", {"job_id": job_id, "limit": 5000})
    detail["log"] = [(entry["level"], entry["message"]) for entry in reversed(logs["entries"])]
    return detail


def unpacked(daemon: DaemonProcess, detail: dict[str, Any], target: Path) -> tuple[Path, Path]:
    """The stored archive ZIP and its unpacked data/ folder."""
    locations = [loc["location"] for artifact in detail["artifacts"] for loc in artifact["locations"]]
    assert len(locations) == 1, locations
    archive = daemon.root / "archive" / locations[0]
    return archive, archive_payload(archive, target)


def verify(archive: Path) -> None:
    """`archived verify` on the ZIP succeeds."""
    done = subprocess.run(
        [sys.executable, "-m", "archived", "verify", str(archive)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def rows(data: Path) -> dict[int, dict[str, str]]:
    """submissions.csv by user id."""
    text = (data / "submissions.csv").read_text(encoding="utf-8")
    return {int(row["userid"]): row for row in csv.DictReader(io.StringIO(text))}


def test_recorded_assignment_is_archived_with_texts_files_and_feedback(daemon, tmp_path):
    detail = asyncio.run(run_job(daemon, LAB))
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    table = rows(data)
    assert set(table) == {3, 4, 5, 6, 7}
    assert table[4]["grade"] == "92.50000" and table[4]["status"] == "submitted"
    assert table[7]["status"] == "draft"
    report = squash(pdf_text(data / table[4]["path"]))
    assert squash("Trapezoidal rule converges with order 2") in report
    assert squash("Excellent report; the script is a nice touch.") in report
    # Formula typeset (the TeX source laid beside it), not left as \( … \).
    muller = squash(pdf_text(data / table[3]["path"]))
    assert squash("Die Trapezregel mit") in muller and "\\(" not in muller
    files = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
    assert any(f.endswith("/trapez.py") for f in files)
    assert any(f.endswith("/Korrekturen_Otsuka.pdf") for f in files)
    assert "description/description.pdf" in files
    job = json.loads((data / "job.json").read_text())
    assert job["driver"] == "assign"
    assert job["summary"]["completeness"]["complete"] is True
    assert job["summary"]["completeness"]["etags_checked"] >= 4


JOURNAL = {"course_id": 5, "cmid": 7}  # showcase: image, files, annotated PDF, previous attempt, departed student
PROJECT = {"course_id": 5, "cmid": 8}  # showcase: team submission graded on a scale


def showcase_students(sim: MoodleSimulator) -> list[int]:
    """The showcase course's six students, in the order the showcase made them."""
    return sorted(uid for uid, user in sim.world.users.items() if user.username.startswith("s005"))


def test_journal_keeps_image_text_annotated_pdf_and_every_attempt_and_names_the_departed(daemon, simulator, tmp_path):
    first, second, third, *_, departed = showcase_students(simulator)
    detail = asyncio.run(run_job(daemon, JOURNAL))
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    table = rows(data)
    # The departed student's grade is in Moodle, their submission is not reachable: named, archive incomplete.
    gone = simulator.world.users[departed]
    assert table[departed]["reachable"] == "no" and table[departed]["grade"] == "66.00000"
    job = json.loads((data / "job.json").read_text())
    completeness = job["summary"]["completeness"]
    assert completeness["complete"] is False
    assert [u["userid"] for u in completeness["unreachable_users"]] == [departed]
    assert gone.username in completeness["unreachable_users"][0]["name"]
    readme = next(data.parent.glob("README.txt")).read_text()
    assert "incomplete" in readme.lower() and gone.username in readme
    assert any(level == "warning" and gone.username in message for level, message in detail["log"])
    # Student 1: online text with its image and formula, files as they are, feedback files, the annotated PDF.
    folder = data / Path(table[first]["path"]).parent
    names = {p.name for p in folder.rglob("*") if p.is_file()}
    assert {"journal.pdf", "periods.csv", "marked-rubric.txt", "report.pdf"} <= names
    annotated = [p for p in folder.rglob("*") if "editpdf" in p.as_posix() and p.is_file()]
    assert [p.name for p in annotated] == ["journal.pdf"]
    assert b"ANNOTATED" in annotated[0].read_bytes()
    text = squash(pdf_text(data / table[first]["path"]))
    assert squash("Pendulum journal: we measured") in text and "\\(" not in text
    assert squash("Careful measurements; the error bars are missing.") in text
    assert not [m for _, m in detail["log"] if "pendulum.png" in m]  # the embedded image was fetched
    images = subprocess.run(["pdfimages", "-list", str(data / table[first]["path"])], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]  # fmt: skip
    assert any(line.split()[2] == "image" for line in images), images  # in the PDF (formulas are vector)
    # Student 2: the previous attempt with its own grade and feedback, then the latest.
    assert table[second]["attempts"] == "2" and table[second]["grade"] == "75.00000"
    second_text = squash(pdf_text(data / table[second]["path"]))
    for phrase in ("First try: the period is about one second.", "Measure again: ten swings, not one.",
                   "Second try: ten swings give T = 2.00 s.", "40.00000"):  # fmt: skip
        assert squash(phrase) in second_text, phrase
    assert table[third]["grade"] == "" and table[third]["status"] == "submitted"
    # The blind-marked assignment without mapping functions: which optional functions were missing is said.
    assert "mod_assign_get_user_flags" in completeness["missing_optional_functions"]


def test_team_submission_graded_on_a_scale(daemon, simulator, tmp_path):
    first, second, third, *_ = showcase_students(simulator)
    detail = asyncio.run(run_job(daemon, PROJECT))
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    table = rows(data)
    assert {first, second} <= set(table) and third not in table
    for member in (first, second):
        assert table[member]["groupid"] != "0" and table[member]["gradefordisplay"] == "Good"
        text = squash(pdf_text(data / table[member]["path"]))
        assert squash("Team A: our tank makes standing waves.") in text and "Good" in text
        assert any(p.name == "wave-tank.pdf" for p in (data / Path(table[member]["path"]).parent).rglob("*"))


def test_moodle_50_shapes_archive_the_same_journal(tmp_path):
    with MoodleSimulator(release="5.0", size=SimulatorSize(assignments=True)) as sim:
        config = write_config(tmp_path, **moodle_overrides(tmp_path, sim))
        process = DaemonProcess(config, tmp_path)
        process.start(timeout=60)
        try:
            detail = asyncio.run(run_job(process, JOURNAL))
            assert detail["job"]["state"] == "completed", detail["log"][-5:]
            archive, data = unpacked(process, detail, tmp_path / "out")
            verify(archive)
            table = rows(data)
            assert len(table) == 5
            # The late submission: Moodle's raw grade and the gradebook's grade after the late penalty, both kept.
            late = showcase_students(sim)[3]
            assert table[late]["grade"] == "90.00000" and table[late]["gradefordisplay"] == "80.00 / 100.00"
            text = squash(pdf_text(data / table[late]["path"]))
            assert squash("Grade (raw) 90.00000") in text and squash("Grade (gradebook) 80.00 / 100.00") in text
        finally:
            process.terminate()


def file_requests(sim: MoodleSimulator, path: str) -> int:
    """How often a pluginfile path was downloaded so far."""
    return sum(1 for r in sim.stats.log() if r.endpoint == "pluginfile" and dict(r.params).get("path") == path)


def test_a_download_that_does_not_match_its_etag_fails_the_job_and_a_retry_resumes(daemon, simulator, tmp_path):
    world = simulator.world
    script = next(f for f in world.files.values() if f.filename == "trapez.py")
    report = next(f for f in world.files.values() if f.filename == "Laborbericht_Müller.pdf")
    script_path = f"/{script.contextid}/{script.component}/{script.filearea}/{script.itemid}/{script.filename}"
    report_path = f"/{report.contextid}/{report.component}/{report.filearea}/{report.itemid}/{quote(report.filename)}"
    # Half the body with a matching Content-Length: only the ETag (the file's SHA-1) shows that bytes are missing.
    simulator.faults.truncate(endpoint="pluginfile", params={"path": script_path})
    try:
        failed = asyncio.run(run_job(daemon, LAB, fetch_concurrency=1))
    finally:
        simulator.faults.clear()
    assert failed["job"]["state"] == "failed"
    error = failed["job"]["error_message"]
    assert "trapez.py" in error and "ETag" in error and "zotsuka" in error, error
    downloads = file_requests(simulator, report_path)
    assert downloads >= 1  # participant 3 was archived before participant 4 failed

    async def retry() -> dict[str, Any]:
        async with daemon.client() as client:
            await client.call("jobs.retry", {"job_id": failed["job"]["id"]})
            await wait_for_state(client, failed["job"]["id"], TERMINAL, timeout=180)
        return await detail_of(daemon, failed["job"]["id"])

    done = asyncio.run(retry())
    assert done["job"]["state"] == "completed", done["log"][-5:]
    assert file_requests(simulator, report_path) == downloads  # finished participants are not fetched again
    archive, data = unpacked(daemon, done, tmp_path)
    verify(archive)
    kept = next(p for p in data.rglob("trapez.py"))
    assert kept.read_bytes() == script.content


def test_optional_functions_are_used_when_the_token_has_them(daemon, simulator, tmp_path):
    optional = ["mod_assign_get_user_flags", "mod_assign_get_user_mappings"]
    functions = simulator.world.service.functions
    functions.extend(optional)
    try:
        detail = asyncio.run(run_job(daemon, JOURNAL))
    finally:
        for name in optional:
            functions.remove(name)
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    archive, data = unpacked(daemon, detail, tmp_path)
    verify(archive)
    missing = json.loads((data / "job.json").read_text())["summary"]["completeness"]["missing_optional_functions"]
    assert missing == ["gradereport_user_get_grade_items"]
    flags = json.loads((data / "moodle" / "mod_assign_get_user_flags.json").read_text())
    assert flags["assignments"][0]["userflags"]
    mappings = json.loads((data / "moodle" / "mod_assign_get_user_mappings.json").read_text())
    assert {m["userid"] for m in mappings["assignments"][0]["mappings"]} >= set(showcase_students(simulator)[:3])


async def overview_of(daemon: DaemonProcess, course_id: int) -> None:
    """Have the daemon's course overview fetched (it asks Moodle on its own at start and when looked at)."""
    async with daemon.client() as client:
        await client.call("courses.tree")  # waits for the first refresh
        await client.call("courses.show", {"course_id": course_id})


def test_requests_are_about_eight_plus_one_per_person_plus_one_per_file(daemon, simulator):
    asyncio.run(overview_of(daemon, LAB["course_id"]))  # its requests are not the job's
    before = simulator.stats.counts()
    detail = asyncio.run(run_job(daemon, LAB))
    assert detail["job"]["state"] == "completed", detail["log"][-5:]
    after = simulator.stats.counts()
    calls = {key: count - before.get(key, 0) for key, count in after.items() if count > before.get(key, 0)}
    people = len(simulator.world.enrolments[LAB["course_id"]])  # nobody else holds a grade or submission here
    assert calls.pop("mod_assign_get_submission_status") == people
    assert calls.pop("mod_assign_get_submissions") == 2  # formatted, and the texts exactly as stored
    files = [f for f in simulator.world.files.values() if f.contextid == 27 and f.component.startswith("assign")]
    assert calls.pop("pluginfile") == len(files)
    # The showcase site offers the optional grading and comment functions: the rubric is looked for once (there
    # is none here), the comments once per submission.
    assign_id = next(a.id for a in simulator.world.assigns.values() if a.cmid == LAB["cmid"])
    assert calls.pop("core_comment_get_comments") == len(simulator.world.submissions[assign_id])
    assert calls.pop("core_grading_get_definitions") == 1 and "core_grading_get_gradingform_instances" not in calls
    assert all(count == 1 for count in calls.values()), calls  # site info, course, assignment, users, grades, …
    assert len(calls) <= 8, calls
