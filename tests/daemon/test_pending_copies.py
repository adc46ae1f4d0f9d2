"""Several targets per job through the real daemon: an optional S3 target whose server is down leaves a pending copy,
the job completes on its required local target; once the server is up, the daemon's housekeeping makes the copy
(on its tick, with the test configuration's short backoff). Then `archived archives list|get` against both targets:
filters, retrieval from each with verification on arrival, a tampered copy refused by name, no file overwritten."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.s3_server import S3Server, write_credentials

pytestmark = pytest.mark.slow

BUCKET = "exam-archive"


def s3_target(tmp_path: Path, endpoint: str) -> str:
    credentials = write_credentials(tmp_path / "s3-credentials")
    return f"""
[storage.worm]
driver = "s3"
tier = "remote-slow"
required = false
endpoint_url = "{endpoint}"
bucket = "{BUCKET}"
prefix = "moodle/"
addressing_style = "path"
credentials_file = "{credentials}"
lock_mode = "COMPLIANCE"
"""


def cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`archived …` as an operator would run it, against this daemon."""
    return subprocess.run(
        [sys.executable, "-m", "archived", "--socket", str(daemon.socket), *args],
        capture_output=True, text=True, timeout=120, env=daemon.env,
    )  # fmt: skip


async def wait_for_copy(daemon: DaemonProcess, job_id: str, target: str) -> dict[str, Any]:
    """Poll `jobs.get` until the job's archive has a copy on `target` (the housekeeping makes it in the background)."""
    deadline = asyncio.get_running_loop().time() + 90
    async with daemon.client() as client:
        while True:
            view = await client.call("jobs.get", {"job_id": job_id})
            artifact = view["artifacts"][0]
            if any(loc["target"] == target for loc in artifact["locations"]):
                return dict(artifact)
            assert asyncio.get_running_loop().time() < deadline, f"no copy on {target}: {artifact}\n{daemon.log()}"
            await asyncio.sleep(0.1)


def pending_by_target(daemon: DaemonProcess) -> dict[str, int]:
    """What `archived storage status` says each target still misses."""
    answer = cli(daemon, "storage", "status", "--no-probe", "--json")
    assert answer.returncode == 0, answer.stderr
    return {t["name"]: t["pending_copies"] for t in json.loads(answer.stdout)["targets"]}


@pytest.fixture
def s3_down() -> S3Server:
    """An S3 server that is not started yet: its port refuses connections until the test starts it."""
    return S3Server()


async def test_a_copy_missed_by_an_optional_target_is_made_once_the_server_is_back(
    daemon_factory, tmp_path: Path, s3_down: S3Server
) -> None:
    daemon = daemon_factory(extra=s3_target(tmp_path, s3_down.endpoint_url))
    async with daemon.client() as client:
        job_id = await create_job(client, files=3, storage_targets=["local", "worm"])
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
        view = await client.call("jobs.get", {"job_id": job_id})
    artifact = view["artifacts"][0]
    assert [loc["target"] for loc in artifact["locations"]] == ["local"]
    [pending] = artifact["pending"]
    assert pending["target"] == "worm" and pending["attempts"] >= 1 and pending["last_error"]
    assert pending["next_try_at"] is not None
    shown = cli(daemon, "jobs", "show", job_id)
    assert shown.returncode == 0, shown.stderr
    assert "worm pending" in shown.stdout and "retry" in shown.stdout, shown.stdout
    # The built ZIP is kept for the copy after the job's work folder is gone.
    assert not (tmp_path / "state" / "work" / job_id).exists()
    assert [p.name for p in (tmp_path / "state" / "pending-copies" / job_id).iterdir()] == [artifact["name"]]
    listed = json.loads(cli(daemon, "archives", "list", "--json").stdout)
    assert [a["pending"][0]["target"] for a in listed["archives"]] == ["worm"]
    assert pending_by_target(daemon) == {"local": 0, "worm": 1}

    with s3_down as s3:
        s3.client().create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        artifact = await wait_for_copy(daemon, job_id, "worm")
        assert artifact["pending"] == []
        [key] = [k for k in s3.keys(BUCKET) if not k.startswith("moodle/.archived-probe/")]
        body = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == artifact["sha256"]
        assert not (tmp_path / "state" / "pending-copies" / job_id).exists()  # every copy exists: spool released
        async with daemon.client() as client:
            logs = await client.call("jobs.logs", {"job_id": job_id})
        assert any(e["message"].startswith("stored on worm as ") for e in logs["entries"])
        with sqlite3.connect(tmp_path / "state" / "archived.sqlite3") as store:
            kinds = [row[0] for row in store.execute("SELECT kind FROM events WHERE job_id = ? ORDER BY id", (job_id,))]
        assert "storage.write.failed" in kinds and kinds.count("storage.write.completed") == 2

        assert pending_by_target(daemon) == {"local": 0, "worm": 0}
        shown = cli(daemon, "jobs", "show", job_id)
        assert "pending" not in shown.stdout and "worm" in shown.stdout

        # archives list: filters by target, course and activity.
        def names(*args: str) -> list[str]:
            answer = cli(daemon, "archives", "list", "--json", *args)
            assert answer.returncode == 0, answer.stderr
            return [a["job_id"] for a in json.loads(answer.stdout)["archives"]]

        assert names() == names("--target", "worm") == names("--course", "2") == names("--activity", "7") == [job_id]
        assert names("--course", "3") == names("--activity", "8") == []
        assert names("--target", "nowhere") == []

        # archives get: from each target, verified on arrival; never over an existing file.
        for target in ("worm", "local"):
            dest = tmp_path / f"from-{target}.zip"
            got = cli(daemon, "archives", "get", job_id[:8], "--to", str(dest), "--from", target)
            assert got.returncode == 0, got.stderr
            assert f"from {target}" in got.stdout and "written to" in got.stdout
            assert hashlib.sha256(dest.read_bytes()).hexdigest() == artifact["sha256"]
        again = cli(daemon, "archives", "get", artifact["name"], "--to", str(tmp_path / "from-local.zip"))
        assert again.returncode == 2 and "exists" in again.stderr

        # A tampered local copy is refused, named, and the archive comes from S3 instead.
        local = next(p for p in (tmp_path / "archive").rglob("*.zip"))
        os.chmod(local, 0o644)
        data = bytearray(local.read_bytes())
        data[len(data) // 2] ^= 0xFF
        local.write_bytes(bytes(data))
        dest = tmp_path / "fallback"
        dest.mkdir()
        got = cli(daemon, "archives", "get", job_id, "--to", str(dest))
        assert got.returncode == 0, got.stderr
        assert "not from local" in got.stdout and "from worm" in got.stdout, got.stdout
        assert hashlib.sha256((dest / artifact["name"]).read_bytes()).hexdigest() == artifact["sha256"]
        refused = cli(daemon, "archives", "get", job_id, "--to", str(tmp_path / "x.zip"), "--from", "local")
        assert refused.returncode == 1 and "local" in refused.stderr and "sha256" in refused.stderr
        assert not (tmp_path / "x.zip").exists()


async def test_deleting_a_job_cancels_its_pending_copies(daemon_factory, tmp_path: Path, s3_down: S3Server) -> None:
    daemon = daemon_factory(extra=s3_target(tmp_path, s3_down.endpoint_url))
    async with daemon.client() as client:
        job_id = await create_job(client, files=2, storage_targets=["local", "worm"])
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
        assert (tmp_path / "state" / "pending-copies" / job_id).exists()
        await client.call("jobs.delete", {"job_id": job_id, "force": True})
        deadline = asyncio.get_running_loop().time() + 60
        while (tmp_path / "state" / "pending-copies" / job_id).exists():
            assert asyncio.get_running_loop().time() < deadline, daemon.log()
            await asyncio.sleep(0.1)
        logs = await client.call("jobs.logs", {"job_id": job_id})
    assert any("pending copy on worm canceled" in e["message"] for e in logs["entries"])
    with sqlite3.connect(tmp_path / "state" / "archived.sqlite3") as store:
        assert store.execute("SELECT COUNT(*) FROM pending_copies").fetchone()[0] == 0


async def test_a_pending_copy_survives_a_daemon_killed_and_restarted(
    daemon_factory, tmp_path: Path, s3_down: S3Server
) -> None:
    daemon = daemon_factory(extra=s3_target(tmp_path, s3_down.endpoint_url))
    async with daemon.client() as client:
        job_id = await create_job(client, files=2, storage_targets=["local", "worm"])
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
    daemon.kill()  # the pending copy and the kept ZIP are all that is left of it
    with s3_down as s3:
        s3.client().create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        daemon.restart()
        artifact = await wait_for_copy(daemon, job_id, "worm")
    assert artifact["pending"] == [] and not (tmp_path / "state" / "pending-copies" / job_id).exists()
