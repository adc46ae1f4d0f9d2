"""Connectors in the real daemon: a webhook that is down while jobs complete, the daemon killed (SIGKILL) with
those deliveries pending, then restarted: every event arrives, none twice; the CLI shows the lanes, the dead letters
and redelivers one."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from tests.support.daemon import REPO, TESTS, DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state

from .conftest import secret_file
from .receiver import WebhookReceiver

SECRET = "daemon-test-secret"
KINDS = ("job.completed", "storage.write.completed")


def connector_table(name: str, url: str, secret: Path, **keys: object) -> str:
    lines = [f"[connectors.{name}]", 'driver = "webhook"', f'url = "{url}"', f'secret_file = "{secret}"',
             f"events = {json.dumps(list(KINDS))}", "retry_base_seconds = 0.05", "retry_max_seconds = 0.2"]  # fmt: skip
    lines += [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n\n"


def outbox_ids(root: Path) -> list[int]:
    with sqlite3.connect(f"file:{root / 'state' / 'archived.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(f"SELECT id FROM events WHERE kind IN {KINDS} ORDER BY id").fetchall()
    return [int(row[0]) for row in rows]


def recorded(root: Path) -> dict[str, int]:
    """How many events each connector has recorded as delivered or dead."""
    with sqlite3.connect(f"file:{root / 'state' / 'archived.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT connector, COUNT(*) FROM connector_deliveries GROUP BY connector").fetchall()
    return {str(name): int(count) for name, count in rows}


def cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archived", "--socket", str(daemon.socket), "connectors", *args],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "plugins"), str(REPO)])},
    )  # fmt: skip


async def until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def test_deliveries_pending_at_a_sigkill_are_made_after_the_restart_none_twice(tmp_path: Path) -> None:
    campus = WebhookReceiver(secret=SECRET).start()
    broken = WebhookReceiver(secret=SECRET, down=True).start()
    secret = secret_file(tmp_path, "webhook.secret", SECRET)
    extra = connector_table("campus", campus.url, secret, max_attempts=100)
    extra += connector_table("broken", broken.url, secret, max_attempts=2)
    daemon = DaemonProcess(write_config(tmp_path, extra=extra), tmp_path)
    daemon.start()
    try:
        async with daemon.client() as client:
            first = await create_job(client, files=1)
            await wait_for_state(client, first, {"completed"})
            await until(lambda: len(campus.accepted) == len(outbox_ids(tmp_path)), "the first job's events")
            delivered_before = set(campus.accepted)

            campus.down = True  # from now on the campus system refuses: deliveries pile up
            second = await create_job(client, files=1)
            await wait_for_state(client, second, {"completed"})
            await until(lambda: len(campus.requests) > len(delivered_before) + 1, "the campus lane retrying")
        daemon.kill()
        pending = [i for i in outbox_ids(tmp_path) if str(i) not in campus.accepted]
        assert pending  # the second job's events were not delivered when the daemon died

        campus.down = False
        daemon.start()
        await until(lambda: len(campus.accepted) == len(outbox_ids(tmp_path)), "everything after the restart")
        await until(lambda: recorded(tmp_path) == {"campus": 4, "broken": 4}, "every outcome recorded")
        status = cli(daemon, "status", "--json")
        dead = cli(daemon, "dead-letters", "--connector", "broken", "--json")
        letters = json.loads(dead.stdout)["dead_letters"]
        broken.down = False
        redelivered = cli(daemon, "redeliver", str(letters[-1]["id"]))
        listing = cli(daemon, "list")
    finally:
        daemon.kill()
        campus.stop()
        broken.stop()

    assert sorted(int(i) for i in campus.accepted) == outbox_ids(tmp_path)
    assert campus.repeats == 0, "an event reached the campus system twice"
    assert all(r.signature_ok for r in campus.requests)
    kinds = [r.json()["kind"] for r in campus.accepted.values()]
    assert kinds.count("job.completed") == 2 and kinds.count("storage.write.completed") == 2

    assert status.returncode == 1, status.stderr  # the broken connector has dead letters
    lanes = {c["name"]: c for c in json.loads(status.stdout)["connectors"]}
    assert lanes["campus"]["delivered"] == 4 and lanes["campus"]["dead_letters"] == 0
    assert lanes["broken"]["dead_letters"] == 4 and "HTTP 503" in lanes["broken"]["last_error"]
    assert SECRET not in status.stdout + dead.stdout + redelivered.stdout + listing.stdout + daemon.log()

    assert dead.returncode == 0 and len(letters) == 4 and {d["attempts"] for d in letters} == {2}
    assert redelivered.returncode == 0, redelivered.stdout + redelivered.stderr
    assert "delivered" in redelivered.stdout and list(broken.accepted) == [str(letters[-1]["event_id"])]
    assert listing.returncode == 0 and "campus" in listing.stdout and campus.url in listing.stdout


async def test_redelivery_and_test_events_need_an_operator(tmp_path: Path) -> None:
    table = '[connectors.ledger]\ndriver = "command"\nevents = ["job.*"]\nargv = ["true"]\n'
    config = write_config(
        tmp_path, extra=table,
        **{"access.operator_users": [], "access.operator_groups": [], "access.allow_daemon_user": False},
    )  # fmt: skip
    daemon = DaemonProcess(config, tmp_path)
    daemon.start()
    try:
        async with daemon.client() as client:
            [lane] = (await client.call("connectors.list", {}))["connectors"]
            assert lane["name"] == "ledger" and lane["target"] == "true"
            for method, params in (("connectors.redeliver", {"id": 1}), ("connectors.test", {"name": "ledger"})):
                with pytest.raises(RpcError) as refused:
                    await client.call(method, params)
                assert refused.value.code == ErrorCode.PERMISSION_DENIED
    finally:
        daemon.kill()
