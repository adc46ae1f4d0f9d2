"""One person's files out of archives (`archived.people.export` on what `archived.archive.people_files` reads): their
attempt folders whole, only their attachments in a folder shared by several attempts, their attempts.csv rows and
job.json entry; a file that does not match its manifest leaves that archive out whole; archives of one name keep
apart."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from archived.archive.people_files import read_contents
from archived.people.export import ExportSource, Unexported, write_export

CSV = (
    "attemptid,attempt,userid,username,firstname,lastname,idnumber,state,path\n"
    "11,1,3,anna,Anna,A,S1,finished,attempts/anna-11/report.pdf\n"
    "12,1,4,ben,Ben,B,S2,finished,attempts/ben-12/report.pdf\n"
    "13,1,3,anna,Anna,A,S1,finished,attempts/shared/anna-13.pdf\n"
    "14,1,4,ben,Ben,B,S2,finished,attempts/shared/ben-14.pdf\n"
)
FILES = {
    "data/attempts/anna-11/report.pdf": b"anna 11",
    "data/attempts/anna-11/report.html": b"<p>anna 11</p>",
    "data/attempts/anna-11/attachments/1/essay.txt": b"anna's essay",
    "data/attempts/ben-12/report.pdf": b"ben 12",
    "data/attempts/shared/anna-13.pdf": b"anna 13",
    "data/attempts/shared/anna-13.html": b"<p>anna 13</p>",
    "data/attempts/shared/attachments/13/upload.png": b"anna's upload",
    "data/attempts/shared/ben-14.pdf": b"ben 14",
    "data/attempts/shared/attachments/14/upload.png": b"ben's upload",
}
USERS = [
    {"id": 3, "username": "anna", "firstname": "Anna", "lastname": "A", "idnumber": "S1"},
    {"id": 4, "username": "ben", "firstname": "Ben", "lastname": "B", "idnumber": "S2"},
]


def archive(path: Path, *, lie_about: str | None = None) -> Path:
    """A bag ZIP as archived writes one (payload, job.json, attempts.csv, manifest); `lie_about`: a file whose
    manifest line is wrong."""
    job = {"job_id": path.stem, "moodle": {"site": "https://m"}, "users": USERS}
    payload = {**FILES, "data/attempts.csv": CSV.encode(), "data/job.json": json.dumps(job).encode()}
    manifest = "".join(
        f"{hashlib.sha256(b'x' if name == lie_about else data).hexdigest()}  {name}\n" for name, data in payload.items()
    )
    with zipfile.ZipFile(path, "w") as bag:
        for name, data in payload.items():
            bag.writestr(f"bag/{name}", data)
        bag.writestr("bag/manifest-sha256.txt", manifest)
    return path


def source(path: Path, job_id: str, name: str = "archive-a.zip") -> ExportSource:
    return ExportSource(path, read_contents(path), job_id, name, "local", name, "sha")


def test_only_the_persons_files_rows_and_entry(tmp_path: Path) -> None:
    people = read_contents(archive(tmp_path / "a.zip")).people()
    assert [(p.userid, p.username, p.attempts) for p in people] == [(3, "anna", 2), (4, "ben", 2)]
    dest = tmp_path / "anna.zip"
    exported, refused = write_export(dest, person={"userid": 3}, sources=[source(tmp_path / "a.zip", "job-a")],
                                     refused=[], requested_by="operator:root")  # fmt: skip
    assert refused == [] and len(exported) == 1
    with zipfile.ZipFile(dest) as out:
        names = sorted(out.namelist())
        rows = out.read("archive-a/data/attempts.csv").decode().splitlines()
        job = json.loads(out.read("archive-a/data/job.json"))
        manifest = json.loads(out.read("manifest.json"))
    assert names == sorted(["manifest.json", "archive-a/data/attempts.csv", "archive-a/data/job.json",
                            "archive-a/data/attempts/anna-11/report.pdf", "archive-a/data/attempts/anna-11/report.html",
                            "archive-a/data/attempts/anna-11/attachments/1/essay.txt",
                            "archive-a/data/attempts/shared/anna-13.pdf", "archive-a/data/attempts/shared/anna-13.html",
                            "archive-a/data/attempts/shared/attachments/13/upload.png"])  # fmt: skip
    assert [r.split(",")[0] for r in rows] == ["attemptid", "11", "13"]
    assert job["users"] == [USERS[0]] and job["job_id"] == "a"
    listed = {f["path"]: f for f in manifest["archives"][0]["files"]}
    assert (
        listed["archive-a/data/attempts/anna-11/report.pdf"]["from"] == "archive-a.zip/data/attempts/anna-11/report.pdf"
    )
    assert listed["archive-a/data/attempts/anna-11/report.pdf"]["sha256"] == hashlib.sha256(b"anna 11").hexdigest()


def test_a_file_that_does_not_match_its_manifest_leaves_the_archive_out(tmp_path: Path) -> None:
    good = archive(tmp_path / "good.zip")
    bad = archive(tmp_path / "bad.zip", lie_about="data/attempts/shared/anna-13.pdf")
    earlier = Unexported("job-c", "archive-c.zip", "could not be searched: no copy verifies")
    dest = tmp_path / "anna.zip"
    exported, refused = write_export(
        dest, person={"userid": 3}, refused=[earlier], requested_by="operator:root",
        sources=[source(good, "job-a", "archive-a.zip"), source(bad, "job-b", "archive-b.zip")],
    )  # fmt: skip
    assert [a.job_id for a in exported] == ["job-a"]
    assert [u.job_id for u in refused] == ["job-c", "job-b"] and "anna-13.pdf" in refused[1].reason
    with zipfile.ZipFile(dest) as out:
        assert not [n for n in out.namelist() if n.startswith("archive-b/")]
        manifest = json.loads(out.read("manifest.json"))
    assert [u["job_id"] for u in manifest["not_exported"]] == ["job-c", "job-b"]


def test_archives_of_one_name_keep_apart(tmp_path: Path) -> None:
    first, second = archive(tmp_path / "one.zip"), archive(tmp_path / "two.zip")
    dest = tmp_path / "anna.zip"
    write_export(dest, person={"userid": 3}, refused=[], requested_by="operator:root",
                 sources=[source(first, "job-1"), source(second, "job-2")])  # fmt: skip
    with zipfile.ZipFile(dest) as out:
        folders = {n.split("/")[0] for n in out.namelist() if "/" in n}
    assert folders == {"archive-a", "archive-a-job-job-2"}
