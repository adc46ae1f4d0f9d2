"""The real daemon storing jobs on a real SFTP server: a network that fails mid-upload, a daemon killed mid-upload.

Either way the job completes, the archive on the server is the one the daemon recorded, and no temporary file
or half-written archive is left on the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.sftp_server import ClientFiles, SftpTestServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

JOB = {"files": 4, "file_size": 1024 * 1024, "storage_targets": ["remote"]}  # about 4 MiB, incompressible


def sftp_target(server: SftpTestServer, files: ClientFiles, port: int) -> str:
    """Raw TOML for `write_config(extra=...)`: the server pinned by its fingerprint, key login."""
    return f"""
[storage.remote]
driver = "sftp"
tier = "remote-fast"
host = "127.0.0.1"
port = {port}
username = "{server.username}"
folder = "archive"
host_key = "{server.fingerprint}"
key_file = "{files.key_file}"
timeout_seconds = 10
"""


def check_stored(root: Path, server: SftpTestServer, job_id: str) -> None:
    """The recorded archive is on the server with the recorded checksum, and nothing else is."""
    store = sqlite3.connect(root / "state" / "archived.sqlite3")
    rows = store.execute(
        "SELECT l.location, l.sha256, l.size FROM artifact_locations l JOIN artifacts a ON a.id = l.artifact_id "
        "WHERE a.job_id = ? AND l.target = 'remote'",
        (job_id,),
    ).fetchall()
    store.close()
    assert len(rows) == 1
    location, sha256, size = rows[0]
    data = (server.root / "archive" / location).read_bytes()
    assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256
    assert sorted(p.name for p in (server.root / "archive").iterdir()) == [location]


async def test_a_dropped_connection_is_retried_and_the_job_completes(daemon_factory, tmp_path: Path) -> None:
    with SftpTestServer(tmp_path / "sftp") as server, TcpProxy("127.0.0.1", server.port) as proxy:
        (server.root / "archive").mkdir()
        files = server.write_client_files(tmp_path / "client")
        proxy.cut_after(1_500_000)  # every connection breaks mid-upload until healed
        daemon = daemon_factory(extra=sftp_target(server, files, proxy.port))
        async with daemon.client() as client:
            job_id = await create_job(client, **JOB)
            deadline = asyncio.get_running_loop().time() + 60
            while proxy.cuts == 0:  # the proxy counts cuts in its own thread
                assert asyncio.get_running_loop().time() < deadline, "the upload was never cut"
                await asyncio.sleep(0.02)
            assert not any(p.suffix == ".zip" for p in (server.root / "archive").iterdir())
            proxy.heal()
            job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
            logs = await client.call("jobs.logs", {"job_id": job_id})
        assert job["state"] == "completed", job
        messages = [entry["message"] for entry in logs["entries"]]
        assert any(m.startswith("store failed (storage_unavailable): storage target remote") for m in messages)
        check_stored(tmp_path, server, job_id)


async def test_a_daemon_killed_mid_upload_completes_the_job_after_restart(daemon_factory, tmp_path: Path) -> None:
    with SftpTestServer(tmp_path / "sftp") as server:
        (server.root / "archive").mkdir()
        files = server.write_client_files(tmp_path / "client")
        server.gate.hold_after(1024 * 1024)
        daemon = daemon_factory(extra=sftp_target(server, files, server.port))
        async with daemon.client() as client:
            job_id = await create_job(client, **JOB)
        assert await asyncio.to_thread(server.gate.wait_held, 60)
        daemon.kill()
        leftovers = list((server.root / "archive").iterdir())
        assert [p.name.startswith(".archived-part-") for p in leftovers] == [True]  # the partial upload only
        server.gate.release()
        daemon.restart()
        async with daemon.client() as client:
            job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
        check_stored(tmp_path, server, job_id)  # the killed attempt's temporary file is gone too
