"""Moodle backups (.mbz) in archives, through a real daemon process against the Moodle simulator.

The simulator keeps backups in Moodle's backup file areas as automated backups and `admin/cli/backup.php` leave
them, and answers the `/0/` URL its file browser lists for automated backups with 404, as Moodle 4.5.6 does. A job
takes the newest backup into `data/backups/` (ETag SHA-1 and SHA-256 checked, in the manifest, verified with the
archive), or runs the configured command; a required backup that is missing or too old fails the job, naming the
fix; an optional one that is missing is said to be missing.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from archived.simulator.data.backups import CAPABILITIES, add_backup
from archived.simulator.simulator import MoodleSimulator
from tests.daemon.test_quiz_jobs import EXAM, MIDTERM, job_detail, run_job, start_daemon, stored_archive
from tests.support.simulator import archive_payload

pytestmark = pytest.mark.slow

LATEST = {"backup_source": "latest_automated", "backup_required": True}
NO_ATTEMPTS = {"attempt_states": ["abandoned"]}  # nothing to render: these tests are about the backup
CLI_SCRIPT = """\
import pathlib, sys
course, destination = sys.argv[1], pathlib.Path(sys.argv[2])
(destination / f"backup-moodle2-course-{course}-cli.mbz").write_bytes(b"MBZ from the command line " + course.encode())
print("backup written")
"""


@pytest.fixture(scope="module")
def simulator():
    """The recorded site; the service user's role may list and download backups."""
    with MoodleSimulator() as sim:
        with sim.world.lock:
            sim.world.capabilities |= CAPABILITIES
        yield sim


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    root = tmp_path_factory.mktemp("backup-daemon")
    script = root / "make_backup.py"
    script.write_text(CLI_SCRIPT)
    process = start_daemon(
        root, simulator, **{"backups.cli_command": [sys.executable, str(script), "{courseid}", "{destination}"]}
    )
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


def last_change(sim: MoodleSimulator, quiz_id: int) -> int:
    """The quiz's last change as the quiz driver reckons it."""
    attempts = [a for a in sim.world.attempts.values() if a.quiz == quiz_id]
    newest = max(a.timemodified or a.timefinish or a.timestart or 0 for a in attempts)
    return max(sim.world.quizzes[quiz_id].timemodified or 0, newest)


def job_json(data: Path) -> dict[str, Any]:
    return json.loads((data / "job.json").read_text(encoding="utf-8"))


async def test_the_newest_automated_backup_is_packed_and_verified(daemon, simulator, tmp_path) -> None:
    changed = last_change(simulator, 2)
    older = add_backup(
        simulator.world, area="automated", filename="backup-moodle2-course-3-phys1-20261201-0100.mbz",
        content=b"older backup", timecreated=changed + 10, courseid=3,
    )  # fmt: skip
    newest = add_backup(
        simulator.world, area="automated", filename="backup-moodle2-course-3-phys1-20261207-1651.mbz",
        content=b"PK\x03\x04 the newest backup " * 1000, timecreated=changed + 3600, courseid=3,
    )  # fmt: skip
    # What Moodle's file browser lists: the URL with /0/, which pluginfile.php answers with 404.
    listed = f"{simulator.url}/webservice/pluginfile.php/{newest.contextid}/backup/automated"
    async with httpx.AsyncClient() as client:
        with_itemid = await client.get(f"{listed}/0/{newest.filename}", params={"token": simulator.token})
        without = await client.get(f"{listed}/{newest.filename}", params={"token": simulator.token})
    assert (with_itemid.status_code, without.status_code) == (404, 200)

    detail = await job_detail(daemon, await run_job(daemon, MIDTERM, **LATEST))
    assert detail["job"]["state"] == "completed", detail["job"]
    archive = stored_archive(daemon, detail)
    data = archive_payload(archive, tmp_path)
    assert (data / "backups" / newest.filename).read_bytes() == newest.content
    assert not (data / "backups" / older.filename).exists()
    backup = job_json(data)["backup"]
    assert backup["file"] == f"backups/{newest.filename}"
    assert backup["moodle_area"] == "backup/automated"
    assert backup["etag_verified"] is True and backup["size"] == len(newest.content)
    with zipfile.ZipFile(archive) as bag:
        manifest = next(n for n in bag.namelist() if n.endswith("/manifest-sha256.txt"))
        assert f"data/backups/{newest.filename}" in bag.read(manifest).decode()
    assert any(level == "info" and "Moodle backup backups/" in m for level, m in detail["log"])


async def test_a_required_backup_missing_or_too_old_fails_the_job_with_the_fix(daemon, simulator) -> None:
    missing = await job_detail(daemon, await run_job(daemon, EXAM, **LATEST, **NO_ATTEMPTS))
    assert missing["job"]["state"] == "failed", missing["job"]
    assert missing["job"]["error_code"] == "backup_missing"
    assert "moodle/restore:viewautomatedfilearea" in missing["job"]["error_message"]
    assert "moodle/backup:downloadfile" in missing["job"]["error_message"]

    add_backup(
        simulator.world, area="activity", filename="backup-moodle2-activity-2-quiz1-old.mbz",
        content=b"from before the exam", timecreated=last_change(simulator, 1) - 2 * 3600, courseid=2, cmid=2,
    )  # fmt: skip
    too_old = await job_detail(daemon, await run_job(daemon, EXAM, **LATEST, **NO_ATTEMPTS, backup_max_age_hours=1))
    assert too_old["job"]["state"] == "failed", too_old["job"]
    assert too_old["job"]["error_code"] == "backup_missing"
    assert "older than the activity's last change" in too_old["job"]["error_message"]

    # Allowed two hours and more, the same backup is taken (from the activity's own backup area).
    taken = await job_detail(daemon, await run_job(daemon, EXAM, **LATEST, **NO_ATTEMPTS, backup_max_age_hours=3))
    assert taken["job"]["state"] == "completed", taken["job"]


async def test_an_optional_backup_that_is_missing_is_named_and_the_job_completes(daemon, simulator, tmp_path) -> None:
    with simulator.world.lock:
        simulator.world.capabilities -= {"moodle/backup:downloadfile"}
    try:
        optional = {"backup_source": "latest_automated", "backup_required": False}
        detail = await job_detail(daemon, await run_job(daemon, EXAM, **optional, **NO_ATTEMPTS))
    finally:
        with simulator.world.lock:
            simulator.world.capabilities |= CAPABILITIES
    assert detail["job"]["state"] == "completed", detail["job"]
    data = archive_payload(stored_archive(daemon, detail), tmp_path)
    backup = job_json(data)["backup"]
    assert backup["required"] is False and "moodle/backup:downloadfile" in backup["missing"]
    assert not (data / "backups").exists()
    assert any(level == "warning" and "WITHOUT a Moodle backup" in m for level, m in detail["log"])


async def test_the_cli_source_runs_the_configured_command(daemon, tmp_path) -> None:
    detail = await job_detail(daemon, await run_job(daemon, EXAM, backup_source="cli", backup_required=True,
                                                    **NO_ATTEMPTS))  # fmt: skip
    assert detail["job"]["state"] == "completed", detail["job"]
    data = archive_payload(stored_archive(daemon, detail), tmp_path)
    name = "backup-moodle2-course-2-cli.mbz"
    assert (data / "backups" / name).read_bytes() == b"MBZ from the command line 2"
    backup = job_json(data)["backup"]
    assert backup["source"] == "cli" and backup["file"] == f"backups/{name}"


async def test_a_backup_whose_bytes_do_not_match_the_etag_fails_the_job(daemon, simulator) -> None:
    backup = add_backup(
        simulator.world, area="course", filename="backup-moodle2-course-2-math1-cron.mbz",
        content=b"PK\x03\x04 a backup cut in transit " * 500, timecreated=last_change(simulator, 1) + 60, courseid=2,
    )  # fmt: skip
    # Half the body with a matching Content-Length: only the ETag (the file's SHA-1) shows that bytes are missing.
    simulator.faults.truncate(
        endpoint="pluginfile", params={"path": f"/{backup.contextid}/backup/course/{backup.filename}"}
    )
    try:
        detail = await job_detail(daemon, await run_job(daemon, EXAM, **LATEST, **NO_ATTEMPTS))
    finally:
        simulator.faults.clear()
    assert detail["job"]["state"] == "failed", detail["job"]
    assert detail["job"]["error_code"] == "integrity"
    assert backup.filename in detail["job"]["error_message"] and "ETag" in detail["job"]["error_message"]
