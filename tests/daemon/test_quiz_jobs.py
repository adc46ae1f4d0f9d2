"""Quiz jobs through a real daemon process against the Moodle simulator: faults, a crash, Moodle 5.0.

The daemon is driven over its socket like an operator would; job states, logs and archives are read back
from the socket, the store and the storage folder. One simulator (the recorded site plus one generated course
whose quiz has `RESTART_ATTEMPTS` attempts) and one daemon serve most tests; faults are cleared after each.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from archived.jobs.context import PARTIAL_CHECKPOINT
from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import RAW_TEX, archive_payload, moodle_overrides, pdf_text, squash

REVIEW = "mod_quiz_get_attempt_review"
EXAM = {"course_id": 2, "cmid": 2}  # quiz 1: attempts 1-9 finished, 10 in progress
MIDTERM = {"course_id": 3, "cmid": 4}  # quiz 2: attempts 11-13
RESTART_ATTEMPTS = 12


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus one generated course with a quiz of `RESTART_ATTEMPTS` finished attempts."""
    size = SimulatorSize(courses=1, students=RESTART_ATTEMPTS, attempts_per_student=1, inprogress=0.0, ungraded=0.0)
    with MoodleSimulator(size=size) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _no_faults_left(simulator: MoodleSimulator):
    yield
    simulator.faults.clear()


def start_daemon(root: Path, sim: MoodleSimulator, **overrides: Any) -> DaemonProcess:
    """A daemon on a fresh store under `root`, talking to `sim`."""
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(root, **moodle_overrides(root, sim), **overrides)
    daemon = DaemonProcess(config, root)
    daemon.start(timeout=60)
    return daemon


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    """The daemon most tests share."""
    process = start_daemon(tmp_path_factory.mktemp("quiz-daemon"), simulator)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


# -- helpers ----------------------------------------------------------------------------------------------


async def run_job(daemon: DaemonProcess, quiz: dict[str, int], **settings: Any) -> str:
    """Create a quiz job as an operator would (the daemon finds the driver) and wait until it ends."""
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**quiz, "settings": settings})
        job_id = str(answer["job"]["id"])
        await wait_for_state(client, job_id, TERMINAL, timeout=180)
    return job_id


async def job_detail(daemon: DaemonProcess, job_id: str) -> dict[str, Any]:
    """`jobs.get` plus the job's log lines (oldest first)."""
    async with daemon.client() as client:
        detail = await client.call("jobs.get", {"job_id": job_id})
        logs = await client.call("jobs.logs", {"job_id": job_id, "limit": 5000})
    detail["log"] = [(entry["level"], entry["message"]) for entry in reversed(logs["entries"])]
    return detail


def stored_archive(daemon: DaemonProcess, detail: dict[str, Any]) -> Path:
    """The one archive a completed job stored."""
    locations = [loc["location"] for artifact in detail["artifacts"] for loc in artifact["locations"]]
    assert len(locations) == 1, locations
    return daemon.root / "archive" / locations[0]


def csv_rows(data: Path) -> dict[int, dict[str, str]]:
    """attempts.csv by attempt id."""
    rows = csv.DictReader(io.StringIO((data / "attempts.csv").read_text(encoding="utf-8")))
    return {int(row["attemptid"]): row for row in rows}


def review_calls(sim: MoodleSimulator) -> dict[int, int]:
    """How often each attempt's review was requested so far."""
    counts: dict[int, int] = {}
    for record in sim.stats.log():
        if record.function == REVIEW:
            attempt = int(dict(record.params)["attemptid"])
            counts[attempt] = counts.get(attempt, 0) + 1
    return counts


def image_path(sim: MoodleSimulator, attempt_id: int) -> str:
    """The pluginfile path of the figure (slot 6 of the exam) as attempt `attempt_id` shows it."""
    attempt = sim.world.attempts[attempt_id]
    question = sim.world.quizzes[attempt.quiz].slots[5].question
    filename = next(iter(question.files))
    return f"/{question.contextid}/question/questiontext/{attempt.uniqueid}/6/{question.id}/{quote(filename)}"


def checkpoint_done(root: Path, job_id: str) -> dict[str, Any]:
    """The quiz driver's partial-progress record as the store holds it."""
    with sqlite3.connect(root / "state" / "archived.sqlite3") as store:
        rows = store.execute(
            "SELECT key, data FROM job_checkpoint_items WHERE job_id = ? AND stage = ?", (job_id, PARTIAL_CHECKPOINT)
        ).fetchall()
    return {key: json.loads(data) for key, data in rows}


def stored_files(daemon: DaemonProcess) -> set[str]:
    """Everything in the daemon's storage folder."""
    return {p.name for p in (daemon.root / "archive").iterdir()} if (daemon.root / "archive").is_dir() else set()


def assert_nothing_stored(daemon: DaemonProcess, detail: dict[str, Any], before: set[str]) -> None:
    """A failed job left no archive: none recorded for it, nothing new in the storage folder."""
    assert detail["artifacts"] == []
    with sqlite3.connect(daemon.root / "state" / "archived.sqlite3") as store:
        count = store.execute("SELECT COUNT(*) FROM artifacts WHERE job_id = ?", (detail["job"]["id"],)).fetchone()
    assert count[0] == 0
    assert stored_files(daemon) == before


# -- failures ---------------------------------------------------------------------------------------------


async def test_malformed_review_fails_the_job_naming_the_attempt(
    daemon: DaemonProcess, simulator: MoodleSimulator, tmp_path: Path
) -> None:
    # A PHP warning printed before the JSON is a misconfigured site, not a hiccup: the client classifies it as
    # not recoverable, so the job fails at once (no stage retry) and says which attempt and why.
    simulator.faults.malformed(function=REVIEW, params={"attemptid": 12})
    before = stored_files(daemon)
    job_id = await run_job(daemon, MIDTERM)
    detail = await job_detail(daemon, job_id)
    job = detail["job"]
    assert job["state"] == "failed", job
    assert job["error_code"] == "moodle_malformed"
    assert "attempt 12 (user zotsuka)" in job["error_message"]
    assert "PHP" in job["error_message"]
    assert [step["to"] for step in detail["timeline"]].count("activity_archiving") == 1  # not retried
    assert_nothing_stored(daemon, detail, before)

    # Once the site is fixed, the operator's retry completes the job with every attempt.
    simulator.faults.clear()
    async with daemon.client() as client:
        await client.call("jobs.retry", {"job_id": job_id})
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
    assert job["state"] == "completed", job
    data = archive_payload(stored_archive(daemon, await job_detail(daemon, job_id)), tmp_path)
    assert sorted(csv_rows(data)) == [11, 12, 13]


@pytest.fixture(scope="module")
def faulty_exam(daemon: DaemonProcess, simulator: MoodleSimulator, tmp_path_factory) -> dict[str, Any]:
    """The exam archived while attempt 4's figure is gone (404) and attempt 5's review fails 3× with 503."""
    simulator.faults.fail(404, endpoint="pluginfile", params={"path": image_path(simulator, 4)})
    simulator.faults.fail(503, times=3, function=REVIEW, params={"attemptid": 5})
    before = review_calls(simulator)
    try:
        job_id = asyncio.run(run_job(daemon, EXAM))
    finally:
        simulator.faults.clear()
    detail = asyncio.run(job_detail(daemon, job_id))
    after = review_calls(simulator)
    calls = {attempt: after.get(attempt, 0) - before.get(attempt, 0) for attempt in after}
    data = archive_payload(stored_archive(daemon, detail), tmp_path_factory.mktemp("faulty-exam"))
    return {"detail": detail, "data": data, "review_calls": calls}


def test_missing_image_gives_a_placeholder_and_a_warning(faulty_exam: dict[str, Any]) -> None:
    detail, data = faulty_exam["detail"], faulty_exam["data"]
    assert detail["job"]["state"] == "completed", detail["job"]
    rows = csv_rows(data)
    assert sorted(rows) == list(range(1, 10))
    text = pdf_text(data / rows[4]["path"])
    assert "[image not available: Right triangle with legs a=3 and b=4]" in " ".join(text.split())  # its alt text
    assert "image not available" not in pdf_text(data / rows[6]["path"])  # the others have their figure
    warnings = [message for level, message in detail["log"] if level == "warning"]
    assert any("attempt 4" in message and "triangle" in message for message in warnings), warnings


def test_5xx_burst_is_retried_transparently(faulty_exam: dict[str, Any], simulator: MoodleSimulator) -> None:
    detail, data = faulty_exam["detail"], faulty_exam["data"]
    assert detail["job"]["state"] == "completed"
    assert faulty_exam["review_calls"][5] == 4  # three 503s, then the answer
    assert all(faulty_exam["review_calls"][a] == 1 for a in (1, 2, 3, 4, 6, 7, 8, 9))
    assert [step["to"] for step in detail["timeline"]].count("activity_archiving") == 1  # no stage retry
    assert not [message for level, message in detail["log"] if level == "error"]
    text = pdf_text(data / csv_rows(data)[5]["path"])
    expected = simulator.attempt_expectations(5)
    assert squash(expected.all_response_texts()[0]) in squash(text)


async def test_render_timeout_fails_the_job_and_stores_nothing(simulator: MoodleSimulator, tmp_path_factory) -> None:
    daemon = start_daemon(
        tmp_path_factory.mktemp("timeout-daemon"),
        simulator,
        **{
            "workers.render_timeout_seconds": 0.001,
            "workers.render_retries": 1,
            "workers.render_processes": 1,
            "retry.max_retries": 0,
        },
    )
    try:
        job_id = await run_job(daemon, MIDTERM)
        detail = await job_detail(daemon, job_id)
    finally:
        daemon.terminate()
    job = detail["job"]
    assert job["state"] == "failed", job
    assert job["error_code"] == "render_timeout"
    cause = r"attempt 1[123] \(user \w+\) could not be archived: rendering attempt 1[123] failed after 2 tries"
    assert re.search(cause, job["error_message"]), job["error_message"]
    # A timeout is recoverable, but retry.max_retries = 0 here: the job fails after the render retries.
    assert detail["job"]["error_message"] and any("retries exhausted" in step["reason"] for step in detail["timeline"])
    assert_nothing_stored(daemon, detail, set())
    payload = daemon.root / "state" / "work" / job_id / "payload"
    assert not list(payload.rglob("*.pdf")) and not list(payload.rglob("*.part"))


# -- crash and resume ---------------------------------------------------------------------------------------


async def test_killed_during_rendering_resumes_without_redoing_finished_attempts(
    simulator: MoodleSimulator, tmp_path_factory
) -> None:
    quiz = next(q for q in simulator.world.quizzes.values() if q.course not in (2, 3))
    attempts = [a.id for a in simulator.world.quiz_attempts(quiz.id)]
    assert len(attempts) == RESTART_ATTEMPTS
    root = tmp_path_factory.mktemp("restart-daemon")
    # Attempts finish about half a second apart, whatever the render speed: the kill lands after a checkpoint
    # write (every 2 s) and well before the last attempt (with fast rendering all 12 could otherwise finish
    # between two checkpoint writes, and the job would be complete before the kill).
    for index, attempt_id in enumerate(sorted(attempts)):
        simulator.faults.delay(0.5 * index, function=REVIEW, params={"attemptid": attempt_id})
    daemon = start_daemon(root, simulator)
    try:
        async with daemon.client() as client:
            answer = await client.call("jobs.create", {"course_id": quiz.course, "cmid": quiz.cmid})
            job_id = str(answer["job"]["id"])
            deadline = asyncio.get_running_loop().time() + 120
            while len(checkpoint_done(root, job_id)) < RESTART_ATTEMPTS // 3:
                assert asyncio.get_running_loop().time() < deadline, "no progress"
                await asyncio.sleep(0.05)
        daemon.kill()  # SIGKILL in the middle of the activity stage
        done_before = checkpoint_done(root, job_id)
        assert RESTART_ATTEMPTS // 3 <= len(done_before) < RESTART_ATTEMPTS
        calls_before = review_calls(simulator)

        daemon.restart()
        async with daemon.client() as client:
            job = await wait_for_state(client, job_id, TERMINAL, timeout=180)
        assert job["state"] == "completed", job
        detail = await job_detail(daemon, job_id)
    finally:
        daemon.terminate()

    assert any("resuming" in message for _, message in detail["log"])
    calls_after = review_calls(simulator)
    for attempt_id in map(int, done_before):
        # Finished before the crash: not fetched again, not rendered again.
        assert calls_after[attempt_id] == calls_before[attempt_id] == 1, attempt_id
    assert all(calls_after[a] >= 1 for a in attempts)
    data = archive_payload(stored_archive(daemon, detail), tmp_path_factory.mktemp("restart-archive"))
    rows = csv_rows(data)
    assert sorted(rows) == attempts
    for attempt_id, record in done_before.items():
        pdf = (data / record["path"]).read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == record["sha256"] == rows[int(attempt_id)]["sha256"]
    # Every attempt's files exactly once: its report and its scans (re-downloaded or kept), nothing else.
    expected = {"attempts.csv", "job.json"}
    for attempt_id, row in rows.items():
        folder = row["path"].rsplit("/", 1)[0]
        expected.add(row["path"])
        detail_of = simulator.world.detail(simulator.world.attempts[attempt_id])
        expected |= {
            f"{folder}/attachments/{qa.slot}/{f.filename}" for qa in detail_of.questions for f in qa.attachments
        }
    assert {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()} == expected


# -- Moodle 5.0 ---------------------------------------------------------------------------------------------


async def test_a_quiz_archives_from_moodle_5_0(tmp_path_factory) -> None:
    """The midterm on 5.0: the new attempts function, `questionnumber`, and a `notstarted` attempt (14)."""
    with MoodleSimulator(release="5.0") as sim:
        assert sim.world.attempts[14].state == "notstarted"
        daemon = start_daemon(tmp_path_factory.mktemp("daemon-50"), sim)
        try:
            job_id = await run_job(daemon, MIDTERM)
            detail = await job_detail(daemon, job_id)
        finally:
            daemon.terminate()
        assert detail["job"]["state"] == "completed", detail["job"]
        data = archive_payload(stored_archive(daemon, detail), tmp_path_factory.mktemp("archive-50"))
        rows = csv_rows(data)
        assert sorted(rows) == [11, 12, 13]  # not the attempt that was never started
        for attempt_id, row in rows.items():
            expectation = sim.attempt_expectations(attempt_id)
            text = pdf_text(data / row["path"])
            assert not RAW_TEX.search(text)
            for slot in expectation.slots:
                assert f"Question {slot.number}" in text
                for fragment in (*slot.question_texts, *slot.response_texts, *slot.right_answer_texts):
                    assert squash(fragment) in squash(text), (attempt_id, slot.slot, fragment)
        job_json = json.loads((data / "job.json").read_text(encoding="utf-8"))
        assert job_json["moodle"]["release"].startswith("5.0")
        assert [u["username"] for u in job_json["users"]] == ["jmueller", "zotsuka", "amartin"]
        assert sim.request_count("mod_quiz_get_user_quiz_attempts") > 0  # 5.0's function, not the deprecated one
        assert sim.request_count("mod_quiz_get_user_attempts") == 0
