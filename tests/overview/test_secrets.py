"""The Moodle token never appears in the daemon's log, the job store, job records or socket answers."""

from __future__ import annotations

from pathlib import Path

from tests.support.jobs import TERMINAL, wait_for_state


async def test_token_stays_secret_through_failures(moodle_daemon, simulator, tmp_path: Path) -> None:
    token = simulator.token
    simulator.faults.fail(503, function="mod_quiz_get_attempt_review", times=1000)
    simulator.faults.fail(404, endpoint="pluginfile", times=1000)
    async with moodle_daemon.client() as client:
        answer = await client.call(
            "jobs.create", {"course_id": 2, "cmid": 2, "settings": {"attempt_states": ["finished"]}}
        )
        job = await wait_for_state(client, answer["job"]["id"], TERMINAL, timeout=240)
        assert job["state"] == "failed"
        assert "attempt" in job["error_message"]
        answers = [
            await client.call("jobs.get", {"job_id": job["id"]}),
            await client.call("jobs.logs", {"job_id": job["id"], "limit": 5000}),
            await client.call("daemon.status"),
            await client.call("courses.show", {"course_id": 2}),
        ]
    assert token not in repr(answers)
    assert token not in moodle_daemon.log()  # the daemon ran with log_level = "debug"
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
