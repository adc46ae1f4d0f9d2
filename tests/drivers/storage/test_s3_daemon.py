"""The real daemon storing jobs to S3 (moto on loopback, an Object Lock bucket): killed in the middle of an upload
it completes the job after a restart and leaves no unfinished upload; a network that breaks uploads makes the
store stage fail recoverably, and the engine's retry completes the job once the network is back."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.s3_server import S3Server, write_credentials
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
JOB = {"files": 8, "file_size": 5 * MIB}  # a ~40 MB archive of incompressible payload: 8 parts of 5 MiB


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def s3_target(tmp_path: Path, endpoint: str, bucket: str) -> str:
    credentials = write_credentials(tmp_path / "s3-credentials")
    return f"""
[storage.worm]
driver = "s3"
tier = "remote-slow"
endpoint_url = "{endpoint}"
bucket = "{bucket}"
prefix = "moodle/"
addressing_style = "path"
credentials_file = "{credentials}"
part_size_mib = 5
lock_mode = "COMPLIANCE"
"""


def recorded(root: Path, target: str) -> list[tuple[str, str, int]]:
    """(location, sha256, size) of every copy the daemon recorded on `target`."""
    with sqlite3.connect(root / "state" / "archived.sqlite3") as store:
        rows = store.execute(
            "SELECT location, sha256, size FROM artifact_locations WHERE target = ?", (target,)
        ).fetchall()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def archive_uploads(s3: S3Server, bucket: str) -> list[dict[str, Any]]:
    """Unfinished uploads of archives (not of the driver's probes)."""
    return [u for u in s3.uploads(bucket) if not u["Key"].startswith("moodle/.archived-probe/")]


def check_stored(s3: S3Server, bucket: str, root: Path) -> None:
    """The one recorded copy is in the bucket, whole, locked; nothing unfinished is left."""
    [(location, sha256, size)] = recorded(root, "worm")
    client = s3.client()
    body = client.get_object(Bucket=bucket, Key=location)["Body"].read()
    assert (len(body), hashlib.sha256(body).hexdigest()) == (size, sha256)
    assert client.head_object(Bucket=bucket, Key=location)["ObjectLockMode"] == "COMPLIANCE"
    assert s3.keys(bucket) == [location]
    assert s3.uploads(bucket) == []


async def test_sigkill_during_the_upload_then_restart(daemon_factory, s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.bucket(object_lock=True)
    daemon = daemon_factory(extra=s3_target(tmp_path, s3.endpoint_url, bucket))
    async with daemon.client() as client:
        job_id = await create_job(client, **JOB)
        await wait_for_state(client, job_id, {"store"}, timeout=120)
    deadline = time.monotonic() + 60
    while not any(u for u in archive_uploads(s3, bucket)):  # the daemon has started uploading the archive
        assert time.monotonic() < deadline, "the upload never started"
        await asyncio.sleep(0.01)
    daemon.kill()
    orphans = archive_uploads(s3, bucket)
    assert orphans and s3.keys(bucket) == [], "the kill came too late to interrupt the upload"
    daemon.restart()
    async with daemon.client() as client:
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
    check_stored(s3, bucket, tmp_path)


async def test_a_broken_network_fails_the_store_recoverably_until_it_heals(
    daemon_factory, s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.bucket(object_lock=True)
    with TcpProxy("127.0.0.1", s3.port) as proxy:
        proxy.cut_after(1 * MIB)  # every request that carries archive bytes breaks after 1 MiB
        daemon = daemon_factory(
            extra=s3_target(tmp_path, f"http://127.0.0.1:{proxy.port}", bucket), **{"retry.max_retries": 50}
        )
        async with daemon.client() as client:
            job_id = await create_job(client, **JOB)
            deadline = time.monotonic() + 120
            while True:
                logs = (await client.call("jobs.logs", {"job_id": job_id}))["entries"]
                if any("recoverable error" in e["message"] for e in logs):
                    break
                assert time.monotonic() < deadline, logs
                await asyncio.sleep(0.1)
            assert s3.keys(bucket) == [] and archive_uploads(s3, bucket) == []  # nothing half-written
            proxy.heal()
            job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
            assert job["state"] == "completed", job
            logs = (await client.call("jobs.logs", {"job_id": job_id}))["entries"]
    assert proxy.cuts >= 1
    assert any("worm" in e["message"] and "will be retried" in e["message"] for e in logs), logs
    check_stored(s3, bucket, tmp_path)
