"""The SFTP storage driver against a real SFTP server on loopback (asyncssh, `tests/support/sftp_server.py`).

Verified writes that never replace a file, whatever the server's rename does; host keys checked; key, passphrase
and password logins from files; outages retried, faults reported with the target and the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from archived.errors import ConfigError, FatalError
from archived.interfaces.storage import StorageConflict, StorageUnavailable, Tier
from archived_sftp.config import SftpConfig
from archived_sftp.storage import TEMP_PREFIX, SftpStorage, temp_name
from tests.support.sftp_server import ClientFiles, SftpTestServer
from tests.support.tcp_proxy import TcpProxy

ARCHIVE = 3 * 1024 * 1024 + 17


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Start SFTP servers with options; each serves its own folder with an `archive` subfolder."""
    servers: list[SftpTestServer] = []

    def start(**options: Any) -> SftpTestServer:
        server = SftpTestServer(tmp_path / f"server{len(servers)}", **options)
        (server.root / "archive").mkdir()
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server: Any) -> SftpTestServer:
    return start_server()


def client_files(server: SftpTestServer, tmp_path: Path, **options: Any) -> ClientFiles:
    """A fresh set of client files (a test may change one set without the next driver rewriting it)."""
    return server.write_client_files(tmp_path / f"client-{uuid.uuid4().hex[:8]}", **options)


def driver_for(server: SftpTestServer, tmp_path: Path, *, port: int | None = None, **settings: Any) -> SftpStorage:
    """Key login, the server in a known_hosts file, the `archive` folder; `settings` override."""
    files = client_files(server, tmp_path)
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port or server.port,
        "username": server.username,
        "folder": "archive",
        "known_hosts_file": files.known_hosts_file,
        "key_file": files.key_file,
        "timeout_seconds": 10,
    }
    values.update(settings)
    values = {key: value for key, value in values.items() if value is not None}
    return SftpStorage("remote", SftpConfig(**values), Tier.REMOTE_FAST)


def source_file(tmp_path: Path, content: bytes | None = None, name: str = "source.zip") -> tuple[Path, str, int]:
    content = os.urandom(ARCHIVE) if content is None else content
    path = tmp_path / name
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest(), len(content)


def listing(server: SftpTestServer) -> list[str]:
    return sorted(path.name for path in (server.root / "archive").iterdir())


async def test_store_retrieve_delete_with_a_key(server: SftpTestServer, tmp_path: Path) -> None:
    driver = driver_for(server, tmp_path)
    source, sha, size = source_file(tmp_path)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert (stored.location, stored.size, stored.sha256) == ("a.zip", size, sha)
    assert (server.root / "archive" / "a.zip").read_bytes() == source.read_bytes()
    assert listing(server) == ["a.zip"]  # no temporary file, no second name
    chunks = [chunk async for chunk in driver.retrieve("a.zip")]
    assert b"".join(chunks) == source.read_bytes()
    await driver.delete("a.zip")
    await driver.delete("a.zip")  # a missing file counts as deleted
    assert listing(server) == []
    assert set(server.logins) == {"publickey"}


async def test_password_login_with_a_pinned_fingerprint(server: SftpTestServer, tmp_path: Path) -> None:
    files = client_files(server, tmp_path)
    driver = driver_for(
        server, tmp_path, key_file=None, known_hosts_file=None, password_file=files.password_file,
        host_key=server.fingerprint,
    )  # fmt: skip
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert listing(server) == ["a.zip"]
    assert server.logins == ["password"]


async def test_encrypted_key_with_a_passphrase_file_and_a_pinned_public_key(
    server: SftpTestServer, tmp_path: Path
) -> None:
    files = client_files(server, tmp_path, passphrase="correct horse")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse\n")
    passphrase.chmod(0o600)
    driver = driver_for(
        server, tmp_path, key_file=files.key_file, key_passphrase_file=passphrase, known_hosts_file=None,
        host_key=server.public_host_key,
    )  # fmt: skip
    status = await driver.status()
    assert status.probe_ok, status.message


async def test_a_wrong_passphrase_stops_the_start_naming_the_key(server: SftpTestServer, tmp_path: Path) -> None:
    files = client_files(server, tmp_path, passphrase="correct horse")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("Tr0ub4dor&3")
    passphrase.chmod(0o600)
    with pytest.raises(ConfigError, match=r"storage\.remote\.key_file: .* is not a usable private key") as caught:
        driver_for(server, tmp_path, key_file=files.key_file, key_passphrase_file=passphrase)
    assert "Tr0ub4dor" not in str(caught.value) and "correct horse" not in str(caught.value)


async def test_a_secret_file_readable_by_others_is_refused(server: SftpTestServer, tmp_path: Path) -> None:
    files = client_files(server, tmp_path)
    files.password_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"storage\.remote\.password_file: .* readable by others"):
        driver_for(server, tmp_path, key_file=None, password_file=files.password_file)


async def test_verify_with_the_servers_sha256sum(server: SftpTestServer, tmp_path: Path) -> None:
    driver = driver_for(server, tmp_path, verify="sha256sum")
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert hashlib.sha256((server.root / "archive" / "a.zip").read_bytes()).hexdigest() == sha
    status = await driver.status()
    assert status.probe_ok and "sha256sum" in status.message


async def test_sha256sum_on_a_server_without_commands_is_a_clear_fault(start_server: Any, tmp_path: Path) -> None:
    server = start_server(commands=False)
    driver = driver_for(server, tmp_path, verify="sha256sum")
    source, sha, size = source_file(tmp_path)
    with pytest.raises(FatalError, match=r'could not run sha256sum .*set verify = "read-back"'):
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert listing(server) == []  # nothing unverified under the final name, no temporary file


async def test_a_wrong_checksum_is_caught_before_publishing(server: SftpTestServer, tmp_path: Path) -> None:
    driver = driver_for(server, tmp_path)
    source, _, size = source_file(tmp_path)
    with pytest.raises(FatalError, match="reads back as"):
        await driver.store(source, "a.zip", sha256="0" * 64, size=size, retain_until=None)
    assert listing(server) == []


SERVER_KINDS = {
    "hard links": {},
    "rename refuses": {"hard_links": False},
    "rename replaces": {"hard_links": False, "rename_replaces": True},
}


@pytest.mark.parametrize("kind", SERVER_KINDS)
async def test_never_overwrites_and_adopts_its_own_write(start_server: Any, tmp_path: Path, kind: str) -> None:
    server = start_server(**SERVER_KINDS[kind])
    driver = driver_for(server, tmp_path)
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    again = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)  # a resumed job
    assert again.sha256 == sha
    other, other_sha, other_size = source_file(tmp_path, b"different", name="other.zip")
    with pytest.raises(StorageConflict, match="already exists"):
        await driver.store(other, "a.zip", sha256=other_sha, size=other_size, retain_until=None)
    assert hashlib.sha256((server.root / "archive" / "a.zip").read_bytes()).hexdigest() == sha
    assert listing(server) == ["a.zip"]


@pytest.mark.parametrize("kind", SERVER_KINDS)
async def test_a_name_that_appears_during_the_upload_is_not_replaced(
    start_server: Any, tmp_path: Path, kind: str
) -> None:
    """Another writer creates the final name while our upload is half done: theirs stays, ours is refused."""
    server = start_server(**SERVER_KINDS[kind])
    driver = driver_for(server, tmp_path)
    source, sha, size = source_file(tmp_path)
    server.gate.hold_after(size // 2)
    store = asyncio.create_task(driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None))
    assert await asyncio.to_thread(server.gate.wait_held, 30)
    (server.root / "archive" / "a.zip").write_bytes(b"the other writer's archive")
    server.gate.release()
    with pytest.raises(StorageConflict):
        await store
    assert (server.root / "archive" / "a.zip").read_bytes() == b"the other writer's archive"
    assert listing(server) == ["a.zip"]


async def test_status_reports_space_latency_and_how_it_publishes(start_server: Any, tmp_path: Path) -> None:
    linking, replacing = start_server(), start_server(hard_links=False, rename_replaces=True)
    status = await driver_for(linking, tmp_path).status()
    assert status.reachable and status.probe_ok, status.message
    assert status.latency_ms is not None
    assert status.free_bytes and status.total_bytes and status.free_bytes <= status.total_bytes
    assert "hard link" in status.message and "reading back" in status.message
    warned = await driver_for(replacing, tmp_path).status()
    assert warned.probe_ok and "WARNING: this server's rename replaces existing files" in warned.message
    assert listing(linking) == listing(replacing) == []  # the probes cleaned up


async def test_an_unknown_host_key_is_refused_naming_its_fingerprint(server: SftpTestServer, tmp_path: Path) -> None:
    files = client_files(server, tmp_path)
    driver = driver_for(server, tmp_path, known_hosts_file=None, password_file=files.password_file)
    source, sha, size = source_file(tmp_path)
    with pytest.raises(FatalError) as caught:
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    message = str(caught.value)
    assert "unknown host key" in message and server.fingerprint in message
    assert f'storage.remote.host_key = "{server.fingerprint}"' in message
    assert server.logins == []  # refused before any credential was sent
    status = await driver.status()
    assert not status.reachable and server.fingerprint in status.message


async def test_a_host_key_mismatch_is_refused(server: SftpTestServer, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    pinned = driver_for(server, tmp_path, known_hosts_file=None, host_key=impostor.get_fingerprint("sha256"))
    with pytest.raises(FatalError, match=r"storage\.remote\.host_key pins .*intercepting"):
        await pinned.delete("a.zip")
    known_hosts = tmp_path / "other_known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {impostor.export_public_key().decode()}")
    listed = driver_for(server, tmp_path, known_hosts_file=known_hosts)
    with pytest.raises(FatalError, match=r"does not list for this host although it lists others"):
        await listed.delete("a.zip")
    assert server.logins == []


async def test_login_refused_and_missing_folder_are_faults(server: SftpTestServer, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password")
    wrong.chmod(0o600)
    refused = driver_for(server, tmp_path, key_file=None, password_file=wrong)
    source, sha, size = source_file(tmp_path)
    with pytest.raises(FatalError, match="login refused for user archiver") as caught:
        await refused.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert "not-the-password" not in str(caught.value)
    missing = driver_for(server, tmp_path, folder="no-such-folder")
    with pytest.raises(FatalError, match="the folder 'no-such-folder' does not exist"):
        await missing.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    with pytest.raises(FatalError, match="does not exist"):
        [chunk async for chunk in driver_for(server, tmp_path).retrieve("never-stored.zip")]


async def test_a_server_that_is_down_is_an_outage(server: SftpTestServer, tmp_path: Path) -> None:
    port = server.port
    server.stop()
    driver = driver_for(server, tmp_path, port=port)
    source, sha, size = source_file(tmp_path)
    with pytest.raises(StorageUnavailable, match=r"storage target remote \(sftp://127\.0\.0\.1"):
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert not (await driver.status()).reachable


async def test_a_connection_dropped_mid_upload_leaves_nothing_under_the_final_name(
    server: SftpTestServer, tmp_path: Path
) -> None:
    """The network fails after 1 MB: an outage (retried), no partial file at the final name; the retry completes
    and removes what the broken attempt left."""
    source, sha, size = source_file(tmp_path)
    with TcpProxy("127.0.0.1", server.port) as proxy:
        driver = driver_for(server, tmp_path, port=proxy.port, known_hosts_file=None, host_key=server.fingerprint)
        proxy.cut_after(1_000_000)
        with pytest.raises(StorageUnavailable):
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        assert proxy.cuts == 1
        assert "a.zip" not in listing(server)
        assert listing(server) == [temp_name("a.zip", sha)]  # the partial upload, under its temporary name
        proxy.heal()
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert listing(server) == ["a.zip"]
    assert hashlib.sha256((server.root / "archive" / "a.zip").read_bytes()).hexdigest() == sha


async def test_a_write_removes_day_old_temporary_files_only(server: SftpTestServer, tmp_path: Path) -> None:
    folder = server.root / "archive"
    stale, fresh, other = folder / f"{TEMP_PREFIX}dead", folder / f"{TEMP_PREFIX}busy", folder / "old.zip"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    source, sha, size = source_file(tmp_path)
    await driver_for(server, tmp_path).store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert listing(server) == sorted([fresh.name, "a.zip", "old.zip"])


@pytest.mark.parametrize(
    "settings,problem",
    [
        ({"key_file": None}, "set key_file"),
        ({"key_file": "relative/key"}, "absolute file path"),
        ({"host_key": "SHA256:short"}, "fingerprint"),
        ({"key_passphrase_file": "/etc/passphrase", "key_file": None, "password_file": "/etc/pw"}, "key_file is not"),
    ],
)
def test_configuration_mistakes_are_named(settings: dict[str, Any], problem: str) -> None:
    values: dict[str, Any] = {"host": "sftp.example.edu", "username": "archiver", "key_file": "/etc/key"}
    values.update(settings)
    with pytest.raises(ValueError, match=problem):
        SftpConfig(**{key: value for key, value in values.items() if value is not None})


async def test_an_upload_the_server_lost_part_of_is_an_outage_to_retry(start_server: Any, tmp_path: Path) -> None:
    """The server ends up with fewer bytes than were sent: a transfer that broke off (retried), not damaged content."""
    server = start_server()
    driver = driver_for(server, tmp_path)
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
    assert listing(server) == []
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert stored.sha256 == sha and listing(server) == ["a.zip"]
