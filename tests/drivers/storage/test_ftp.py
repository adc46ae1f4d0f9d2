"""The FTP/FTPS storage driver against a real FTP server on loopback (pyftpdlib, `tests/support/ftp_server.py`).

Explicit TLS with certificate verification by default, plain FTP only when asked (and warned about); verified writes
that never replace a file although the server's rename would; outages retried, faults reported with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archived.errors import FatalError
from archived.interfaces.storage import StorageConflict, StorageUnavailable, Tier
from archived_ftp.config import FtpConfig
from archived_ftp.storage import TEMP_PREFIX, FtpStorage, temp_name
from tests.support.ftp_server import FtpTestServer, ProxiedFtpServer
from tests.support.tls_certificates import TlsFiles, make_tls_files

ARCHIVE = 3 * 1024 * 1024 + 17


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Start FTP servers with options; each serves its own folder with an `archive` subfolder."""
    servers: list[FtpTestServer] = []

    def start(**options: Any) -> FtpTestServer:
        server = FtpTestServer(tmp_path / f"server{len(servers)}", **options)
        (server.root / "archive").mkdir()
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def driver_for(server: FtpTestServer, tmp_path: Path, tls: TlsFiles | None, *, port: int | None = None,
               **settings: Any) -> FtpStorage:  # fmt: skip
    """The server's user and password file, the `archive` folder, TLS verified against the test CA if `tls`."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port or server.port,
        "username": server.username,
        "password_file": server.write_password_file(tmp_path / f"client-{uuid.uuid4().hex[:8]}"),
        "folder": "archive",
        "tls": tls is not None,
        "ca_file": tls.ca_file if tls else None,
        "timeout_seconds": 10,
    }
    values.update(settings)
    return FtpStorage("remote", FtpConfig(**{k: v for k, v in values.items() if v is not None}), Tier.REMOTE_SLOW)


def source_file(tmp_path: Path, content: bytes | None = None, name: str = "source.zip") -> tuple[Path, str, int]:
    content = os.urandom(ARCHIVE) if content is None else content
    path = tmp_path / name
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest(), len(content)


def listing(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "archive").iterdir())


@pytest.mark.parametrize("secure", [True, False], ids=["ftps", "plain"])
async def test_store_retrieve_delete(start_server: Any, tmp_path: Path, tls: TlsFiles, secure: bool) -> None:
    server = start_server(tls=tls if secure else None)
    driver = driver_for(server, tmp_path, tls if secure else None)
    source, sha, size = source_file(tmp_path)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert (stored.location, stored.size, stored.sha256) == ("a.zip", size, sha)
    assert (server.root / "archive" / "a.zip").read_bytes() == source.read_bytes()
    assert listing(server.root) == ["a.zip"]
    chunks = [chunk async for chunk in driver.retrieve("a.zip")]
    assert b"".join(chunks) == source.read_bytes()
    await driver.delete("a.zip")
    await driver.delete("a.zip")  # a missing file counts as deleted
    assert listing(server.root) == []


async def test_status_over_tls_and_the_warning_for_plain_ftp(start_server: Any, tmp_path: Path, tls: TlsFiles) -> None:
    secure = await driver_for(start_server(tls=tls), tmp_path, tls).status()
    assert secure.reachable and secure.probe_ok, secure.message
    assert secure.latency_ms is not None and secure.free_bytes is None  # FTP does not tell
    assert "over TLS" in secure.message and "WARNING" not in secure.message.split("rename")[0]
    assert "rename replaces existing files" in secure.message  # pyftpdlib's rename does
    plain_server = start_server()
    plain = await driver_for(plain_server, tmp_path, None).status()
    assert plain.probe_ok and plain.message.startswith("WARNING: plain FTP (tls = false)")
    assert listing(plain_server.root) == []  # the probes cleaned up


async def test_never_overwrites_and_adopts_its_own_write(start_server: Any, tmp_path: Path, tls: TlsFiles) -> None:
    server = start_server(tls=tls)
    driver = driver_for(server, tmp_path, tls)
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    again = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)  # a resumed job
    assert again.sha256 == sha
    other, other_sha, other_size = source_file(tmp_path, b"different", name="other.zip")
    with pytest.raises(StorageConflict, match="already exists"):
        await driver.store(other, "a.zip", sha256=other_sha, size=other_size, retain_until=None)
    assert hashlib.sha256((server.root / "archive" / "a.zip").read_bytes()).hexdigest() == sha
    assert listing(server.root) == ["a.zip"]


async def test_a_name_that_appears_during_the_upload_is_not_replaced(start_server: Any, tmp_path: Path) -> None:
    """pyftpdlib's rename replaces files: the check right before the rename is what keeps the other writer's file."""
    server = start_server()
    driver = driver_for(server, tmp_path, None)
    source, sha, size = source_file(tmp_path)
    server.gate.hold_after(size // 2)
    store = asyncio.create_task(driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None))
    assert await asyncio.to_thread(server.gate.wait_held, 30)
    (server.root / "archive" / "a.zip").write_bytes(b"the other writer's archive")
    server.gate.release()
    with pytest.raises(StorageConflict):
        await store
    assert (server.root / "archive" / "a.zip").read_bytes() == b"the other writer's archive"
    assert listing(server.root) == ["a.zip"]


async def test_a_wrong_checksum_is_caught_before_renaming(start_server: Any, tmp_path: Path) -> None:
    server = start_server()
    source, _, size = source_file(tmp_path)
    with pytest.raises(FatalError, match="reads back as"):
        await driver_for(server, tmp_path, None).store(source, "a.zip", sha256="0" * 64, size=size, retain_until=None)
    assert listing(server.root) == []


async def test_a_certificate_from_another_ca_is_refused(start_server: Any, tmp_path: Path, tls: TlsFiles) -> None:
    server = start_server(tls=tls)
    stranger = make_tls_files(tmp_path / "other-ca", ca_name="someone else's CA")
    driver = driver_for(server, tmp_path, stranger)
    with pytest.raises(FatalError, match="TLS certificate does not verify .*set ca_file"):
        await driver.delete("a.zip")
    status = await driver.status()
    assert not status.reachable and "does not verify" in status.message


async def test_tls_against_a_server_without_it_is_refused_not_downgraded(start_server: Any, tmp_path: Path,
                                                                        tls: TlsFiles) -> None:  # fmt: skip
    server = start_server()  # plain FTP only
    with pytest.raises(FatalError, match=r"does not offer explicit TLS .*storage\.remote\.tls = false"):
        await driver_for(server, tmp_path, tls).delete("a.zip")


async def test_login_refused_and_missing_folder_are_faults(start_server: Any, tmp_path: Path, tls: TlsFiles) -> None:
    server = start_server(tls=tls)
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password")
    wrong.chmod(0o600)
    source, sha, size = source_file(tmp_path)
    with pytest.raises(FatalError, match="login refused for user archiver") as caught:
        await driver_for(server, tmp_path, tls, password_file=wrong).store(
            source, "a.zip", sha256=sha, size=size, retain_until=None
        )
    assert "not-the-password" not in str(caught.value)
    with pytest.raises(FatalError, match="the folder 'elsewhere' does not exist"):
        await driver_for(server, tmp_path, tls, folder="elsewhere").store(
            source, "a.zip", sha256=sha, size=size, retain_until=None
        )


async def test_a_busy_server_and_a_server_that_is_down_are_outages(start_server: Any, tmp_path: Path) -> None:
    busy = start_server(max_connections=1)
    with socket.create_connection(("127.0.0.1", busy.port)) as occupying:
        occupying.recv(1024)  # its 220 greeting: the one allowed connection is taken
        with pytest.raises(StorageUnavailable, match="421"):
            await driver_for(busy, tmp_path, None).delete("a.zip")
    down = start_server()
    port = down.port
    down.stop()
    with pytest.raises(StorageUnavailable, match=r"storage target remote \(ftp://127\.0\.0\.1"):
        await driver_for(down, tmp_path, None, port=port).delete("a.zip")


@pytest.mark.parametrize("secure", [True, False], ids=["ftps", "plain"])
async def test_a_data_connection_dropped_mid_upload_leaves_nothing_under_the_final_name(
    tmp_path: Path, tls: TlsFiles, secure: bool
) -> None:
    """The network fails after 1 MB of the upload: an outage (retried), no partial file at the final name; the retry
    completes and removes what the broken attempt left."""
    source, sha, size = source_file(tmp_path)
    with ProxiedFtpServer(tmp_path / "server", tls=tls if secure else None) as proxied:
        (proxied.server.root / "archive").mkdir()
        driver = driver_for(proxied.server, tmp_path, tls if secure else None, port=proxied.port)
        proxied.cut_uploads_after(1_000_000)
        with pytest.raises(StorageUnavailable):
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        assert proxied.cuts == 1
        assert "a.zip" not in listing(proxied.server.root)
        proxied.heal()
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        assert listing(proxied.server.root) == ["a.zip"]
        assert temp_name("a.zip", sha) not in listing(proxied.server.root)


async def test_a_write_removes_day_old_temporary_files_only(start_server: Any, tmp_path: Path) -> None:
    server = start_server()
    folder = server.root / "archive"
    stale, fresh, other = folder / f"{TEMP_PREFIX}dead", folder / f"{TEMP_PREFIX}busy", folder / "old.zip"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    source, sha, size = source_file(tmp_path)
    await driver_for(server, tmp_path, None).store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert listing(server.root) == sorted([fresh.name, "a.zip", "old.zip"])


@pytest.mark.parametrize(
    "settings,problem",
    [
        ({"password_file": None}, "Field required"),
        ({"password_file": "relative"}, "absolute file path"),
        ({"ca_file": "ca.pem"}, "absolute file path"),
        ({"folder": "a\nb"}, "control characters"),
    ],
)
def test_configuration_mistakes_are_named(settings: dict[str, Any], problem: str) -> None:
    values: dict[str, Any] = {"host": "ftp.example.edu", "username": "archiver", "password_file": "/etc/pw"}
    values.update(settings)
    with pytest.raises(ValueError, match=problem):
        FtpConfig(**{key: value for key, value in values.items() if value is not None})


async def test_an_upload_the_server_lost_part_of_is_an_outage_to_retry(start_server: Any, tmp_path: Path) -> None:
    """A data connection cut after the client's last write leaves the server with fewer bytes than were sent: that
    is a transfer that broke off (retried), not damaged content (which fails the job)."""
    server = start_server()
    driver = driver_for(server, tmp_path, None)
    source, sha, size = source_file(tmp_path)
    server.gate.hold_after(size // 2)
    store = asyncio.create_task(driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None))
    assert await asyncio.to_thread(server.gate.wait_held, 30)
    for partial in (server.root / "archive").iterdir():
        partial.unlink()  # the server loses what it had written so far
    server.gate.release()
    with pytest.raises(StorageUnavailable, match="the transfer broke off") as caught:
        await store
    assert caught.value.recoverable
    assert listing(server.root) == []
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert stored.sha256 == sha and listing(server.root) == ["a.zip"]
