"""One person's files out of assignment archives (`archived.people.assignment_contents` read, `archived.people.export`
written): everything in their participant folder, their submissions.csv row, job.json entry and entries in Moodle's
optional answers; a folder or an answer naming someone the tables do not still makes them a person of the archive;
a team member's export says the files are the team's; a submissions.csv that does not match its manifest leaves the
archive out."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from archived.people.assignment_contents import AssignmentContents, read_people_contents
from archived.people.export import ExportSource, write_export

CSV = (
    "userid,username,firstname,lastname,idnumber,enrolled,reachable,groupid,status,attempts,timemodified,grade,"
    "gradefordisplay,grader,timegraded,path,sha256\r\n"
    "3,anna,Anna,A,S1,yes,yes,7,submitted,2,1,50.0,50,2,1,submissions/3-anna/report.pdf,x\r\n"
    "4,ben,Ben,B,S2,yes,yes,7,submitted,1,1,50.0,50,2,1,submissions/4-ben/report.pdf,x\r\n"
    "5,cleo,Cleo,C,S3,no,no,0,submitted,0,1,66.0,,2,1,,\r\n"
)
FILES = {
    "data/submissions/3-anna/report.pdf": b"anna",
    "data/submissions/3-anna/attempt-1/submission/file-submission_files/tank.pdf": b"team tank",
    "data/submissions/3-anna/attempt-2/feedback/editpdf-download/tank.pdf": b"annotated",
    "data/submissions/4-ben/report.pdf": b"ben",
    "data/submissions/4-ben/attempt-1/submission/file-submission_files/tank.pdf": b"team tank",
    "data/submissions/34-dora/report.pdf": b"dora, left over",
    "data/description/description.pdf": b"the assignment",
}
FLAGS = {
    "assignments": [
        {
            "assignmentid": 1,
            "userflags": [
                {"id": 1, "userid": 3, "extensionduedate": 1700000000, "workflowstate": ""},
                {"id": 2, "userid": 4, "extensionduedate": 0, "workflowstate": ""},
                {"id": 3, "userid": 9, "extensionduedate": 1700000000, "workflowstate": ""},
            ],
        }
    ],
    "warnings": [],
}
USERS = [
    {"id": 3, "username": "anna", "firstname": "Anna", "lastname": "A", "idnumber": "S1"},
    {"id": 4, "username": "ben", "firstname": "Ben", "lastname": "B", "idnumber": "S2"},
    {"id": 5, "username": "cleo", "firstname": "Cleo", "lastname": "C", "idnumber": "S3"},
]
SUMMARY = {
    "completeness": {
        "complete": False,
        "unreachable_users": [{"userid": 5, "name": "Cleo C (cleo)", "reason": "refused"}],
        "statement": ["Users checked: 3.", "INCOMPLETE: Moodle holds a grade or submission of Cleo C (cleo), ..."],
    }
}


def archive(path: Path, *, lie_about: str | None = None) -> Path:
    """An assignment bag ZIP as archived writes one; `lie_about`: a file whose manifest line is wrong."""
    job = {"job_id": path.stem, "moodle": {"site": "https://m"}, "users": USERS, "summary": SUMMARY}
    payload = {**FILES, "data/submissions.csv": CSV.encode(), "data/job.json": json.dumps(job).encode(),
               "data/moodle/mod_assign_get_user_flags.json": json.dumps(FLAGS).encode()}  # fmt: skip
    manifest = "".join(
        f"{hashlib.sha256(b'x' if name == lie_about else data).hexdigest()}  {name}\n" for name, data in payload.items()
    )
    with zipfile.ZipFile(path, "w") as bag:
        for name, data in payload.items():
            bag.writestr(f"bag/{name}", data)
        bag.writestr("bag/manifest-sha256.txt", manifest)
    return path


def export_of(tmp_path: Path, userid: int, bag: Path) -> tuple[dict[str, bytes], dict]:
    contents = read_people_contents(bag)
    dest = tmp_path / f"{userid}.zip"
    write_export(dest, person={"userid": userid}, refused=[], requested_by="operator:root",
                 sources=[ExportSource(bag, contents, "job-a", "lab.zip", "local", "lab.zip", "sha")])  # fmt: skip
    with zipfile.ZipFile(dest) as out:
        files = {n.removeprefix("lab/"): out.read(n) for n in out.namelist()}
    return files, json.loads(files.pop("manifest.json"))


def test_people_of_an_assignment_archive(tmp_path: Path) -> None:
    contents = read_people_contents(archive(tmp_path / "lab.zip"))
    assert isinstance(contents, AssignmentContents)
    people = [(p.userid, p.username, p.attempts) for p in contents.people()]
    # A folder no table names, and an extension granted to someone with nothing else here: people of it too.
    assert people == [(3, "anna", 2), (4, "ben", 1), (5, "cleo", 0), (9, "", 0), (34, "", 0)]


def test_a_members_folder_row_and_entry_and_the_team_said(tmp_path: Path) -> None:
    files, manifest = export_of(tmp_path, 3, archive(tmp_path / "lab.zip"))
    assert sorted(files) == sorted(
        [p for p in FILES if p.startswith("data/submissions/3-anna/")]
        + ["data/submissions.csv", "data/job.json", "data/moodle/mod_assign_get_user_flags.json"]
    )
    flags = json.loads(files["data/moodle/mod_assign_get_user_flags.json"])
    assert flags["assignments"][0]["userflags"] == [FLAGS["assignments"][0]["userflags"][0]]
    assert files["data/submissions.csv"].decode().splitlines()[1:] == [CSV.splitlines()[1]]
    job = json.loads(files["data/job.json"])
    assert job["users"] == [USERS[0]]
    assert job["summary"]["completeness"]["unreachable_users"] == []
    assert "cleo" not in json.dumps(job)  # another person's name is their data
    [entry] = manifest["archives"]
    assert len(entry["notes"]) == 1 and "team" in entry["notes"][0] and "group 7" in entry["notes"][0]


def test_an_unreachable_user_gets_their_row_and_entry(tmp_path: Path) -> None:
    files, manifest = export_of(tmp_path, 5, archive(tmp_path / "lab.zip"))
    assert sorted(files) == ["data/job.json", "data/submissions.csv"]
    job = json.loads(files["data/job.json"])
    assert [u["userid"] for u in job["summary"]["completeness"]["unreachable_users"]] == [5]
    assert manifest["archives"][0]["notes"] == []


def test_a_table_that_does_not_match_its_manifest_leaves_the_archive_out(tmp_path: Path) -> None:
    files, manifest = export_of(tmp_path, 3, archive(tmp_path / "lab.zip", lie_about="data/submissions.csv"))
    assert files == {} and manifest["archives"] == []
    [refused] = manifest["not_exported"]
    assert "data/submissions.csv" in refused["reason"]
