"""GDPR requests through the real daemon, on quiz archives made from the Moodle simulator: `archived people find`
lists every archive holding one person's data (re-indexed from the stored archives themselves), `archived people
export` writes a ZIP of only that person's files, verified against each archive's manifest, with a manifest of where
each came from; an archive whose stored copy was tampered with is refused by name; every lookup and export is
audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archived.simulator.simulator import MoodleSimulator
from tests.cli.test_cli import run
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import moodle_overrides

pytestmark = pytest.mark.slow

EXAM = {"course_id": 2, "cmid": 2}
MIDTERM = {"course_id": 3, "cmid": 4}


@pytest.fixture(scope="module")
def simulator():
    with MoodleSimulator() as sim:
        yield sim


def rows(root: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / "state" / "archived.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def forget_index(root: Path) -> None:
    """Empty the people index, as in a store whose archives were all made before it existed."""
    with sqlite3.connect(root / "state" / "archived.sqlite3") as db:
        db.execute("DELETE FROM people_index")
        db.execute("DELETE FROM people_indexed")


async def archive_job(daemon: DaemonProcess, quiz: dict[str, int]) -> tuple[str, Path]:
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**quiz, "settings": {}})
        job_id = str(answer["job"]["id"])
        job = await wait_for_state(client, job_id, TERMINAL, timeout=300)
        assert job["state"] == "completed", job
        detail = await client.call("jobs.get", {"job_id": job_id})
    return job_id, daemon.root / "archive" / detail["artifacts"][0]["locations"][0]["location"]


def read_member(archive: Path, name: str) -> bytes:
    with zipfile.ZipFile(archive) as bag:
        top = bag.namelist()[0].split("/")[0]
        return bag.read(f"{top}/{name}")


def attempt_rows(archive: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_member(archive, "data/attempts.csv").decode())))


def manifest_of(archive: Path) -> dict[str, str]:
    lines = read_member(archive, "manifest-sha256.txt").decode().splitlines()
    return {line.split(" ", 1)[1].strip(): line.split(" ", 1)[0] for line in lines}


def tamper(path: Path) -> None:
    """Flip one byte in the middle of a stored archive (inside a compressed attempt report)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


async def test_find_and_export_one_persons_data_across_archives(simulator: MoodleSimulator, tmp_path: Path) -> None:
    daemon = DaemonProcess(write_config(tmp_path, **moodle_overrides(tmp_path, simulator)), tmp_path)
    daemon.start(timeout=60)
    try:
        exam_job, exam = await archive_job(daemon, EXAM)
        midterm_job, midterm = await archive_job(daemon, MIDTERM)
        again_job, again = await archive_job(daemon, EXAM)
        in_exam = {r["userid"]: r for r in attempt_rows(exam)}
        shared = sorted(set(in_exam) & {r["userid"] for r in attempt_rows(midterm)})
        assert shared, "the simulator's site has a student in both quizzes"
        person = in_exam[shared[0]]
        others = {r["userid"] for r in attempt_rows(exam)} - {person["userid"]}
        assert others, "the exam has other students too"
        deadline = time.monotonic() + 60
        while len(rows(tmp_path, "SELECT 1 FROM people_indexed WHERE indexed_at IS NOT NULL")) < 3:
            assert time.monotonic() < deadline, "new archives are read into the people index on their own"
            time.sleep(0.2)
        forget_index(tmp_path)

        found = run("people", "find", person["username"], "--json", socket=daemon.socket)
        assert found.returncode == 0, found.stdout + found.stderr
        result = json.loads(found.stdout)
        assert sorted(m["job_id"] for m in result["matches"]) == sorted([exam_job, midterm_job, again_job])
        assert {(m["userid"], m["matched"]) for m in result["matches"]} == {(int(person["userid"]), "username")}
        assert result["unsearched"] == []
        by_idnumber = json.loads(run("people", "find", person["idnumber"], "--by", "idnumber", "--json",
                                     socket=daemon.socket).stdout)  # fmt: skip
        assert len(by_idnumber["matches"]) == 3

        tamper(again)
        destination = tmp_path / "export.zip"
        exported = run("people", "export", person["userid"], "--by", "id", "--to", str(destination),
                       socket=daemon.socket)  # fmt: skip
        assert exported.returncode == 1, exported.stdout + exported.stderr  # not every archive could be exported
        assert "NOT exported" in exported.stderr and again.name in exported.stderr and "sha256" in exported.stderr
        with zipfile.ZipFile(destination) as export:
            names = export.namelist()
            manifest = json.loads(export.read("manifest.json"))
            assert manifest["person"]["userid"] == int(person["userid"])
            assert sorted(a["job_id"] for a in manifest["archives"]) == sorted([exam_job, midterm_job])
            [refused] = manifest["not_exported"]
            assert refused["job_id"] == again_job and "local" in refused["reason"]
            for source, archive in ((exam, exam_job), (midterm, midterm_job)):
                folder = source.name.removesuffix(".zip")
                listed = manifest_of(source)
                mine = [r for r in attempt_rows(source) if r["userid"] == person["userid"]]
                csv_rows = list(csv.DictReader(io.StringIO(export.read(f"{folder}/data/attempts.csv").decode())))
                assert csv_rows == mine
                job = json.loads(export.read(f"{folder}/data/job.json"))
                assert job["job_id"] == archive and [u["id"] for u in job["users"]] == [int(person["userid"])]
                files = [n for n in names if n.startswith(f"{folder}/data/attempts/")]
                assert files and all(n.endswith((".pdf", ".html")) or "/attachments/" in n for n in files)
                for name in files:  # every file is the archive's own, byte for byte
                    path = name.removeprefix(f"{folder}/")
                    assert hashlib.sha256(export.read(name)).hexdigest() == listed[path]
                reports = {r["path"] for r in mine}
                assert all(f"data/{report}" in {n.removeprefix(f"{folder}/") for n in files} for report in reports)
                other_reports = {r["path"] for r in attempt_rows(source) if r["userid"] in others}
                assert not {f"{folder}/data/{p}" for p in other_reports} & set(names)  # no one else's reports
        assert not any(n.startswith(again.name.removesuffix(".zip")) for n in names)

        forget_index(tmp_path)
        unsearched = run("people", "find", person["username"], "--json", socket=daemon.socket)
        assert unsearched.returncode == 1
        result = json.loads(unsearched.stdout)
        assert [u["job_id"] for u in result["unsearched"]] == [again_job]
        assert "sha256" in result["unsearched"][0]["reason"]
        assert len(result["matches"]) == 2

        audit = rows(tmp_path, "SELECT action, subject, outcome, actor FROM audit_log ORDER BY id")
        assert [a[0] for a in audit] == ["people.find", "people.find", "people.export", "people.find"]
        assert audit[0][1] == f"any={person['username']}" and audit[2][1] == f"id={person['userid']}"
        assert audit[2][2].startswith("partial") and json.loads(audit[2][3])["kind"] == "operator"
    finally:
        daemon.kill()


async def test_an_export_of_nobody_is_refused_and_audited(simulator: MoodleSimulator, tmp_path: Path) -> None:
    daemon = DaemonProcess(write_config(tmp_path, **moodle_overrides(tmp_path, simulator)), tmp_path)
    daemon.start(timeout=60)
    try:
        await archive_job(daemon, MIDTERM)
        answer = run("people", "export", "no-such-user", "--to", str(tmp_path / "x.zip"), socket=daemon.socket)
        assert answer.returncode == 4 and "no stored archive holds data" in answer.stderr, answer.stderr
        assert not (tmp_path / "x.zip").exists()
        [(action, outcome)] = rows(tmp_path, "SELECT action, outcome FROM audit_log")
        assert action == "people.export" and outcome.startswith("refused")
    finally:
        daemon.kill()
