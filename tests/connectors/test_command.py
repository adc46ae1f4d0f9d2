"""The command connector: a real program (a small Python script) gets the event's JSON on stdin; its exit status
decides; a program that runs too long is killed; its output is kept (truncated) in the delivery record."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from archived.protocol.connectors import DeadLettersParams
from archived.store.jobs import JobStore

from .conftest import add_job, running, until, until_async

SCRIPT = """\
import json, os, pathlib, sys, time
event = json.load(sys.stdin)
folder = pathlib.Path(sys.argv[1])
attempt = len(list(folder.glob(f"{event['id']}.*"))) + 1
run = {"event": event, "env": dict(os.environ), "pid": os.getpid()}
(folder / f"{event['id']}.{attempt}").write_text(json.dumps(run))
behaviour = os.environ.get("BEHAVIOUR", "ok")
if behaviour == "sleep":
    time.sleep(60)
if behaviour == "fail-once" and attempt == 1:
    print("the campus system is restarting", file=sys.stderr)
    sys.exit(3)
print("x" * 10000 if behaviour == "chatty" else f"stored {event['kind']} {event['id']}")
"""


def command(tmp_path: Path, behaviour: str, **keys: object) -> dict[str, object]:
    script = tmp_path / "receive.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    return {
        "driver": "command", "argv": [sys.executable, str(script), str(runs)], "env": {"BEHAVIOUR": behaviour},
        "events": ["job.created"], "retry_base_seconds": 0.01, "retry_max_seconds": 0.05, **keys,
    }  # fmt: skip


def runs(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").iterdir())]


async def test_the_program_gets_the_event_on_stdin_and_a_failed_run_is_tried_again(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVED_TEST_SECRET_IN_DAEMON_ENV", "moodle-token")  # the daemon's env is not passed on
    async with running(store, {"campus": command(tmp_path, "fail-once")}) as c:
        await add_job(store, "job-1")
        await until(lambda: len(runs(tmp_path)) == 2, "two runs")

        async def delivered() -> bool:
            return (await c.status()).connectors[0].delivered == 1

        await until_async(delivered, "the event delivered")
        status = (await c.status()).connectors[0]
    first, second = runs(tmp_path)
    assert first["event"] == second["event"]
    event = first["event"]
    assert isinstance(event, dict) and event["kind"] == "job.created" and event["data"]["job"]["id"] == "job-1"
    env = second["env"]
    assert isinstance(env, dict) and env["ARCHIVED_EVENT_ID"] == str(event["id"])
    assert env["ARCHIVED_EVENT_KIND"] == "job.created"
    assert "ARCHIVED_TEST_SECRET_IN_DAEMON_ENV" not in env
    assert "exited with status 3" in status.last_error
    async with (
        store.db.committed_view() as conn,
        conn.execute("SELECT attempts, output FROM connector_deliveries") as cur,
    ):
        [(attempts, output)] = [tuple(row) for row in await cur.fetchall()]
    assert attempts == 2 and output == f"stdout: stored job.created {event['id']}"


async def test_a_program_past_its_timeout_is_killed_and_the_event_ends_a_dead_letter(
    store: JobStore, tmp_path: Path
) -> None:
    keys = {"timeout_seconds": 0.5, "max_attempts": 2}
    async with running(store, {"campus": command(tmp_path, "sleep", **keys)}) as c:
        await add_job(store, "job-1")

        async def dead() -> bool:
            return (await c.dead_letters(DeadLettersParams())).total == 1

        await until_async(dead, "a dead letter")
        [letter] = (await c.dead_letters(DeadLettersParams())).dead_letters
    assert letter.attempts == 2 and "ran longer than 0.5 s and was killed" in letter.error
    pids = [int(str(run["pid"])) for run in runs(tmp_path)]
    assert len(pids) == 2
    for pid in pids:  # killed and reaped, not left sleeping
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_long_output_is_kept_truncated(store: JobStore, tmp_path: Path) -> None:
    keys = {"output_limit": 100}
    async with running(store, {"campus": command(tmp_path, "chatty", **keys)}) as c:
        await add_job(store, "job-1")

        async def delivered() -> bool:
            return (await c.status()).connectors[0].delivered == 1

        await until_async(delivered, "the event delivered")
    async with store.db.committed_view() as conn, conn.execute("SELECT output FROM connector_deliveries") as cur:
        [(output,)] = [tuple(row) for row in await cur.fetchall()]
    assert output == "stdout: " + "x" * 100 + "… (10001 bytes in all)"
