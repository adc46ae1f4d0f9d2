"""Events through the real daemon's outbox survive a SIGKILL: a durable consumer (a journal file, beside the live
bus) gets what was pending after the restart, in order, and nothing twice."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.daemon import REPO, TESTS, DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state
from tests.support.journal_daemon import CONSUMER_NAME, read_journal


def store_rows(root: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of the daemon's store, read beside the running daemon (WAL lets readers in)."""
    with sqlite3.connect(f"file:{root / 'state' / 'archived.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def test_events_pending_at_a_sigkill_are_delivered_after_the_restart_once(tmp_path: Path) -> None:
    journal, hold = tmp_path / "journal.jsonl", tmp_path / "hold"
    daemon = DaemonProcess(write_config(tmp_path), tmp_path)
    daemon.argv = ["-m", "tests.support.journal_daemon", str(daemon.config), str(journal), str(hold)]

    def outbox_ids() -> list[int]:
        return [int(row[0]) for row in store_rows(tmp_path, "SELECT id FROM events ORDER BY id")]

    def journal_ids() -> list[int]:
        return [int(str(entry["id"])) for entry in read_journal(journal)]

    def caught_up() -> bool:
        return bool(journal_ids()) and journal_ids()[-1] == outbox_ids()[-1]

    daemon.start()
    try:
        async with daemon.client() as client:
            first = await create_job(client, files=1)
            await wait_for_state(client, first, {"completed"})
            await until(caught_up, "the journal received the first job's events")
            received_before = journal_ids()

            hold.touch()  # from now on the journal takes nothing: events pile up in the outbox
            second = await create_job(client, files=1)
            await wait_for_state(client, second, {"completed"})
            third = await create_job(client, files=40, delay_seconds=0.1)
            await wait_for_state(client, third, {"activity_archiving"})
        [(position,)] = store_rows(tmp_path, "SELECT last_id FROM event_consumers WHERE name = ?", CONSUMER_NAME)
        pending = [i for i in outbox_ids() if i > int(str(position))]
        assert pending and journal_ids() == received_before
        daemon.kill()

        hold.unlink()
        daemon.start()
        async with daemon.client() as client:
            await wait_for_state(client, third, {"completed"})
            await until(caught_up, "the journal received what was pending")
            shown = (await client.call("jobs.get", {"job_id": third}))["timeline"]
        cli = subprocess.run(
            [sys.executable, "-m", "archived", "--socket", str(daemon.socket), "jobs", "show", third],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "plugins"), str(REPO)])},
        )  # fmt: skip
    finally:
        daemon.kill()

    received = read_journal(journal)
    ids = [int(str(entry["id"])) for entry in received]
    assert ids == sorted(set(ids)), "an event reached the journal twice or out of order"
    assert ids == outbox_ids(), "the journal missed events"
    assert set(pending) <= set(ids)
    finished = [entry["job_id"] for entry in received if entry["kind"] == "job.completed"]
    assert sorted(finished) == sorted([first, second, third])  # one each, the one pending at the kill included

    note = "daemon restarted: resuming at activity_archiving"
    assert [(step["from"], step["to"]) for step in shown if step["reason"] == note] == [
        ("activity_archiving", "activity_archiving")
    ]
    assert cli.returncode == 0, cli.stderr
    assert note in cli.stdout  # `jobs show` prints the timeline entry
