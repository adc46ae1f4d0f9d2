"""The real daemon storing jobs on a real FTPS server: a data connection cut mid-upload, a daemon killed mid-upload.

Either way the job completes, the archive on the server is the one the daemon recorded, and no temporary file
or half-written archive is left on the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.support.ftp_server import FtpTestServer, ProxiedFtpServer
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.tls_certificates import TlsFiles, make_tls_files

pytestmark = pytest.mark.slow

JOB = {"files": 4, "file_size": 1024 * 1024, "storage_targets": ["remote"]}  # about 4 MiB, incompressible


def ftp_target(server: FtpTestServer, tls: TlsFiles, port: int, tmp_path: Path) -> str:
    """Raw TOML for `write_config(extra=...)`: explicit TLS verified against the test CA, password login."""
    return f"""
[storage.remote]
driver = "ftp"
tier = "remote-slow"
host = "127.0.0.1"
port = {port}
username = "{server.username}"
password_file = "{server.write_password_file(tmp_path / "client")}"
folder = "archive"
ca_file = "{tls.ca_file}"
timeout_seconds = 10
"""


def check_stored(root: Path, server: FtpTestServer, job_id: str) -> None:
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


async def test_a_cut_data_connection_is_retried_and_the_job_completes(daemon_factory, tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    with ProxiedFtpServer(tmp_path / "ftp", tls=tls) as proxied:
        (proxied.server.root / "archive").mkdir()
        proxied.cut_uploads_after(1_500_000)  # every upload breaks mid-way until healed
        daemon = daemon_factory(extra=ftp_target(proxied.server, tls, proxied.port, tmp_path))
        async with daemon.client() as client:
            job_id = await create_job(client, **JOB)
            deadline = asyncio.get_running_loop().time() + 60
            while proxied.cuts == 0:  # the proxy counts cuts in its own thread
                assert asyncio.get_running_loop().time() < deadline, "the upload was never cut"
                await asyncio.sleep(0.02)
            assert not any(p.suffix == ".zip" for p in (proxied.server.root / "archive").iterdir())
            proxied.heal()
            job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
            logs = await client.call("jobs.logs", {"job_id": job_id})
        assert job["state"] == "completed", job
        messages = [entry["message"] for entry in logs["entries"]]
        assert any(m.startswith("store failed (storage_unavailable): storage target remote") for m in messages)
        check_stored(tmp_path, proxied.server, job_id)


async def test_a_daemon_killed_mid_upload_completes_the_job_after_restart(daemon_factory, tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    with FtpTestServer(tmp_path / "ftp", tls=tls) as server:
        (server.root / "archive").mkdir()
        server.gate.hold_after(1024 * 1024)
        daemon = daemon_factory(extra=ftp_target(server, tls, server.port, tmp_path))
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
