"""A quiz archive finds the attempts of students whose enrolment was removed, and says what it checked.

Through a real daemon process against the Moodle simulator (release 5.0, so the attempts are listed with
`mod_quiz_get_user_quiz_attempts`): a first job sees the midterm's students enrolled; then one student is
unenrolled and one account deleted, as happens after an exam. Moodle lists neither as enrolled any more, yet keeps
the first one's attempt: the second job finds it through the daemon's set of users ever seen, and its job.json,
README.txt and log state the completeness, naming the user it could not check.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from archived.simulator.simulator import MoodleSimulator
from tests.daemon.test_quiz_jobs import MIDTERM, csv_rows, job_detail, run_job, start_daemon, stored_archive
from tests.support.simulator import add_attempt, archive_payload

pytestmark = pytest.mark.slow

UNENROLLED = 4  # jose.nunez: attempt 12 of the midterm
DELETED = 5  # attempt 13 of the midterm
NEVER_SEEN = 11  # unenrolled before archived first looked at the course
SWEPT = 16  # their attempt of the midterm, which only the attempt-id sweep finds


def completeness_of(data: Path) -> dict:
    """`summary.completeness` of an unpacked archive's job.json."""
    return json.loads((data / "job.json").read_text(encoding="utf-8"))["summary"]["completeness"]


def readme_of(archive: Path) -> str:
    with zipfile.ZipFile(archive) as bag:
        name = next(n for n in bag.namelist() if n.endswith("/README.txt"))
        return bag.read(name).decode("utf-8")


async def test_attempts_of_a_student_no_longer_enrolled_are_archived_and_the_archive_says_so(tmp_path_factory) -> None:
    with MoodleSimulator(release="5.0") as sim:
        daemon = start_daemon(tmp_path_factory.mktemp("daemon-completeness"), sim)
        try:
            first = await job_detail(daemon, await run_job(daemon, MIDTERM))
            with sim.world.lock:
                sim.world.unenrol(3, UNENROLLED)
                sim.world.unenrol(3, DELETED)
                del sim.world.users[DELETED]  # the account is gone: Moodle no longer answers about it
            second = await job_detail(daemon, await run_job(daemon, MIDTERM))
        finally:
            daemon.terminate()

    assert first["job"]["state"] == "completed", first["job"]
    before = archive_payload(stored_archive(daemon, first), tmp_path_factory.mktemp("first"))
    assert sorted(csv_rows(before)) == [11, 12, 13]
    stated = completeness_of(before)
    assert stated["complete"] is True
    assert stated["listing"]["function"] == "mod_quiz_get_user_quiz_attempts"
    assert stated["users_no_longer_enrolled"] == []
    assert stated["attempts_by_state"] == {"finished": 3, "notstarted": 1}  # every state listed, then filtered
    assert stated["attempts_archived"] == 3

    assert second["job"]["state"] == "completed", second["job"]
    archive = stored_archive(daemon, second)
    data = archive_payload(archive, tmp_path_factory.mktemp("second"))
    rows = csv_rows(data)
    assert sorted(rows) == [11, 12]  # 12 is the unenrolled student's: Moodle no longer lists them as enrolled
    assert int(rows[12]["userid"]) == UNENROLLED
    job_json = json.loads((data / "job.json").read_text(encoding="utf-8"))
    assert UNENROLLED in [u["id"] for u in job_json["users"]]
    stated = job_json["summary"]["completeness"]
    assert stated["complete"] is False  # one user could not be checked
    assert sorted(u["id"] for u in stated["users_no_longer_enrolled"]) == [UNENROLLED, DELETED]
    assert stated["users_no_longer_enrolled_with_attempts"] == [UNENROLLED]
    assert stated["users_checked"] == stated["users_enrolled"] + 1
    assert any(f"user {DELETED} " in item for item in stated["not_checked"])

    readme = readme_of(archive)
    assert "COMPLETENESS" in readme
    assert "2 no longer enrolled" in readme and "(1 of them with attempts)" in readme
    assert f"Not checked: user {DELETED} " in readme
    log = [message for _level, message in second["log"]]
    assert any(m.startswith("completeness: Users checked:") for m in log)
    assert any(level == "warning" and f"user {DELETED} " in m for level, m in second["log"])

    assert sim.request_count("mod_quiz_get_user_quiz_attempts") > 0  # 5.0's function, not the deprecated one
    assert sim.request_count("mod_quiz_get_user_attempts") == 0


async def test_the_attempt_id_sweep_finds_an_attempt_of_a_user_never_seen(tmp_path_factory) -> None:
    sim = MoodleSimulator(release="5.0")
    add_attempt(sim, like=12, attempt_id=SWEPT, userid=NEVER_SEEN)
    sim.world.unenrol(3, NEVER_SEEN)
    with sim:
        daemon = start_daemon(tmp_path_factory.mktemp("daemon-sweep"), sim)
        try:
            plain = await job_detail(daemon, await run_job(daemon, MIDTERM))
            swept = await job_detail(
                daemon, await run_job(daemon, MIDTERM, attempt_id_sweep=True, attempt_id_sweep_margin=3)
            )
        finally:
            daemon.terminate()

    assert plain["job"]["state"] == "completed", plain["job"]
    data = archive_payload(stored_archive(daemon, plain), tmp_path_factory.mktemp("plain"))
    assert sorted(csv_rows(data)) == [11, 12, 13]  # no listing asks about a user never seen
    assert completeness_of(data)["attempt_id_sweep"] is None

    assert swept["job"]["state"] == "completed", (swept["job"].get("error_message"), swept["log"][-5:])
    archive = stored_archive(daemon, swept)
    data = archive_payload(archive, tmp_path_factory.mktemp("swept"))
    rows = csv_rows(data)
    assert sorted(rows) == [11, 12, 13, SWEPT]
    assert int(rows[SWEPT]["userid"]) == NEVER_SEEN
    sweep = completeness_of(data)["attempt_id_sweep"]
    # Known: 11-14 (14 was never started); probed 8-10 (the exam's attempts), 15 and 17 (none), 16 (found).
    assert sweep["range"] == [8, 17]
    assert (sweep["probed"], sweep["misses"], sweep["other_quizzes"], sweep["found"]) == (6, 2, 3, [SWEPT])
    assert f"attempts found only by the sweep: {SWEPT}" in readme_of(archive)
    reviews = [dict(r.params) for r in sim.stats.log() if r.function == "mod_quiz_get_attempt_review"]
    assert any(str(p["attemptid"]) == "15" and str(p["page"]) == "0" for p in reviews)  # the first page only


async def test_a_student_seen_at_an_overview_refresh_is_found_after_unenrolment(tmp_path_factory) -> None:
    with MoodleSimulator() as sim:
        daemon = start_daemon(tmp_path_factory.mktemp("daemon-overview"), sim)
        try:
            async with daemon.client() as client:
                refreshed = await client.call("courses.refresh", {"course_id": 3, "force": True})
                assert refreshed["refreshed"] is True
            with sim.world.lock:
                sim.world.unenrol(3, UNENROLLED)  # before any job of the course
            detail = await job_detail(daemon, await run_job(daemon, MIDTERM))
        finally:
            daemon.terminate()
    assert detail["job"]["state"] == "completed", detail["job"]
    data = archive_payload(stored_archive(daemon, detail), tmp_path_factory.mktemp("overview"))
    assert sorted(csv_rows(data)) == [11, 12, 13]
    stated = completeness_of(data)
    assert stated["listing"]["function"] == "mod_quiz_get_user_attempts"  # 4.5
    assert stated["users_no_longer_enrolled_with_attempts"] == [UNENROLLED]
