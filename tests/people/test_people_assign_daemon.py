"""GDPR requests on assignment archives, through the real daemon with the Moodle simulator: a student is found across
a quiz and an assignment archive, their export holds exactly their participant folder, submissions.csv row, job.json
entry and entries of Moodle's optional answers; a team member's export holds the team's files and says so; a departed
user named as unreachable is found; a tampered assignment archive is refused by name."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.cli.test_cli import run
from tests.people.test_people_daemon import EXAM, archive_job, attempt_rows, manifest_of, read_member, tamper
from tests.support.daemon import DaemonProcess, write_config
from tests.support.simulator import moodle_overrides

pytestmark = pytest.mark.slow

LAB = {"course_id": 2, "cmid": 3}  # the recorded assignment, in the exam's course
JOURNAL = {"course_id": 5, "cmid": 7}  # showcase: a departed student named as unreachable
PROJECT = {"course_id": 5, "cmid": 8}  # showcase: a team submission


@pytest.fixture(scope="module")
def simulator():
    with MoodleSimulator(size=SimulatorSize(assignments=True)) as sim:
        sim.world.service.functions.append("mod_assign_get_user_flags")  # extensions: per-user data in data/moodle/
        yield sim


def submission_rows(archive: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_member(archive, "data/submissions.csv").decode())))


def find(daemon: DaemonProcess, query: str) -> dict[str, Any]:
    answer = run("people", "find", query, "--json", socket=daemon.socket)
    assert answer.returncode in (0, 1), answer.stdout + answer.stderr
    return json.loads(answer.stdout)


def export(daemon: DaemonProcess, userid: str, dest: Path) -> tuple[int, str, zipfile.ZipFile]:
    answer = run("people", "export", userid, "--by", "id", "--to", str(dest), socket=daemon.socket)
    return answer.returncode, answer.stdout + answer.stderr, zipfile.ZipFile(dest)


def exported_from(export: zipfile.ZipFile, archive: Path) -> dict[str, bytes]:
    """The export's files of one archive, by their path inside that archive."""
    folder = archive.name.removesuffix(".zip") + "/"
    return {n.removeprefix(folder): export.read(n) for n in export.namelist() if n.startswith(folder)}


async def test_assignment_archives_are_found_and_exported(simulator: MoodleSimulator, tmp_path: Path) -> None:
    daemon = DaemonProcess(write_config(tmp_path, **moodle_overrides(tmp_path, simulator)), tmp_path)
    daemon.start(timeout=60)
    try:
        exam_job, exam = await archive_job(daemon, EXAM)
        lab_job, lab = await archive_job(daemon, LAB)
        journal_job, journal = await archive_job(daemon, JOURNAL)
        project_job, project = await archive_job(daemon, PROJECT)

        # A student with attempts in the quiz and a submission in the assignment of the same course.
        in_lab = {r["userid"]: r for r in submission_rows(lab) if r["path"]}
        shared = sorted(set(in_lab) & {r["userid"] for r in attempt_rows(exam)})
        assert shared, "the simulator's course has a student in the quiz and the assignment"
        person = in_lab[shared[0]]
        found = find(daemon, person["username"])
        assert sorted(m["job_id"] for m in found["matches"]) == sorted([exam_job, lab_job]), found
        assert found["unsearched"] == []

        code, said, out = export(daemon, person["userid"], tmp_path / "student.zip")
        assert code == 0, said
        with out:
            manifest = json.loads(out.read("manifest.json"))
            assert sorted(a["job_id"] for a in manifest["archives"]) == sorted([exam_job, lab_job])
            files = exported_from(out, lab)
            folder = "data/" + person["path"].rsplit("/", 1)[0] + "/"
            listed = manifest_of(lab)
            theirs = {p for p in listed if p.startswith(folder)}
            assert len(theirs) > 1  # the report and the submitted files
            flags = "data/moodle/mod_assign_get_user_flags.json"
            assert set(files) == theirs | {"data/submissions.csv", "data/job.json", flags}  # exactly their files
            userids = {e["userid"] for a in json.loads(files[flags])["assignments"] for e in a["userflags"]}
            assert userids == {int(person["userid"])}
            for path in theirs:
                assert hashlib.sha256(files[path]).hexdigest() == listed[path]
            rows = list(csv.DictReader(io.StringIO(files["data/submissions.csv"].decode())))
            assert rows == [person]
            job = json.loads(files["data/job.json"])
            assert job["job_id"] == lab_job and [u["id"] for u in job["users"]] == [int(person["userid"])]
            [entry] = [a for a in manifest["archives"] if a["job_id"] == lab_job]
            assert {f["path"].removeprefix(lab.name.removesuffix(".zip") + "/") for f in entry["files"]} == set(files)
            assert entry["notes"] == []

        # A team member's export holds the team's files, and the manifest says so.
        member = next(r for r in submission_rows(project) if r["groupid"] not in ("", "0"))
        code, said, out = export(daemon, member["userid"], tmp_path / "member.zip")
        assert code == 0, said
        with out:
            manifest = json.loads(out.read("manifest.json"))
            [entry] = [a for a in manifest["archives"] if a["job_id"] == project_job]
            assert any("team" in note and member["groupid"] in note for note in entry["notes"])
            assert any(p.endswith("/wave-tank.pdf") for p in exported_from(out, project))
            # Their journal export does not name the departed student (that is the departed student's data).
            journal_files = exported_from(out, journal)
            completeness = json.loads(journal_files["data/job.json"])["summary"]["completeness"]
            assert completeness["unreachable_users"] == []
        departed = next(r for r in submission_rows(journal) if r["reachable"] == "no")
        assert departed["username"] not in json.dumps(completeness)

        # The departed student, named as unreachable, is a person of the journal archive too.
        found = find(daemon, departed["username"])
        assert [m["job_id"] for m in found["matches"]] == [journal_job]
        code, said, out = export(daemon, departed["userid"], tmp_path / "departed.zip")
        assert code == 0, said
        with out:
            files = exported_from(out, journal)
            assert set(files) == {"data/submissions.csv", "data/job.json", flags}  # no folder: Moodle refused it
            completeness = json.loads(files["data/job.json"])["summary"]["completeness"]
            assert [u["userid"] for u in completeness["unreachable_users"]] == [int(departed["userid"])]

        # A tampered assignment archive is refused by name; the quiz archive is still exported.
        tamper(lab)
        code, said, out = export(daemon, person["userid"], tmp_path / "refused.zip")
        assert code == 1 and "NOT exported" in said and lab.name in said, said
        with out:
            manifest = json.loads(out.read("manifest.json"))
            assert [a["job_id"] for a in manifest["archives"]] == [exam_job]
            assert [u["job_id"] for u in manifest["not_exported"]] == [lab_job]
            assert not exported_from(out, lab)
    finally:
        daemon.kill()
