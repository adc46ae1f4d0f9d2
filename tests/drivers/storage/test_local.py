"""The local-directory storage driver: atomic, never overwriting, verified, honest about full disks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archived.errors import FatalError, IntegrityError
from archived.interfaces.storage import StorageConflict, StorageUnavailable, Tier
from archived_local import storage as local_storage
from archived_local.storage import TEMP_PREFIX, LocalDirectoryConfig, LocalDirectoryStorage
from tests.support.mounts import set_read_only, tmpfs


def driver_for(path: Path) -> LocalDirectoryStorage:
    return LocalDirectoryStorage("local", LocalDirectoryConfig(path=path), Tier.LOCAL)


def source_file(tmp_path: Path, content: bytes = b"archive bytes" * 1000) -> tuple[Path, str, int]:
    path = tmp_path / "source.zip"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest(), len(content)


async def test_store_and_retrieve(tmp_path: Path) -> None:
    driver = driver_for(tmp_path / "store")
    source, sha, size = source_file(tmp_path)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert (stored.location, stored.size, stored.sha256) == ("a.zip", size, sha)
    assert (tmp_path / "store" / "a.zip").read_bytes() == source.read_bytes()
    chunks = [chunk async for chunk in driver.retrieve("a.zip")]
    assert b"".join(chunks) == source.read_bytes()
    assert not [p for p in (tmp_path / "store").iterdir() if p.name.startswith(TEMP_PREFIX)]


async def test_never_overwrites_other_content(tmp_path: Path) -> None:
    driver = driver_for(tmp_path / "store")
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    other, other_sha, other_size = source_file(
        tmp_path / "o" if (tmp_path / "o").mkdir() is None else tmp_path, b"different"
    )
    with pytest.raises(StorageConflict):
        await driver.store(other, "a.zip", sha256=other_sha, size=other_size, retain_until=None)
    assert hashlib.sha256((tmp_path / "store" / "a.zip").read_bytes()).hexdigest() == sha


async def test_identical_content_is_adopted_on_resume(tmp_path: Path) -> None:
    driver = driver_for(tmp_path / "store")
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    again = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert again.sha256 == sha


async def test_a_wrong_checksum_is_caught_after_writing(tmp_path: Path) -> None:
    driver = driver_for(tmp_path / "store")
    source, _, size = source_file(tmp_path)
    with pytest.raises(IntegrityError, match="reads back as"):
        await driver.store(source, "a.zip", sha256="0" * 64, size=size, retain_until=None)
    assert not (tmp_path / "store" / "a.zip").exists()


@pytest.mark.parametrize("name", ["../escape.zip", "a/b.zip", ".hidden.zip", ""])
async def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    driver = driver_for(tmp_path / "store")
    source, sha, size = source_file(tmp_path)
    with pytest.raises(FatalError, match="unsafe object name"):
        await driver.store(source, name, sha256=sha, size=size, retain_until=None)


async def test_status_probes_and_reports_free_space(tmp_path: Path) -> None:
    status = await driver_for(tmp_path / "store").status()
    assert status.reachable and status.probe_ok
    assert status.free_bytes and status.total_bytes and status.free_bytes <= status.total_bytes
    assert status.latency_ms is not None
    assert list((tmp_path / "store").iterdir()) == []  # the probe cleaned up


async def test_status_of_an_unwritable_folder(tmp_path: Path) -> None:
    target = tmp_path / "file-not-folder"
    target.write_text("x")
    status = await LocalDirectoryStorage("local", LocalDirectoryConfig(path=target, create=False), Tier.LOCAL).status()
    assert not status.probe_ok and "probe failed" in status.message


async def test_delete(tmp_path: Path) -> None:
    driver = driver_for(tmp_path / "store")
    source, sha, size = source_file(tmp_path)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    await driver.delete("a.zip")
    assert not (tmp_path / "store" / "a.zip").exists()


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 1 MiB tmpfs: a real full disk (needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


async def test_a_full_disk_is_a_recoverable_error_and_leaves_nothing(tmp_path: Path, tiny_disk: Path) -> None:
    driver = driver_for(tiny_disk)
    source, sha, size = source_file(tmp_path, os.urandom(3 * 1024 * 1024))
    with pytest.raises(StorageUnavailable, match="no space left"):
        await driver.store(source, "big.zip", sha256=sha, size=size, retain_until=None)
    assert list(tiny_disk.iterdir()) == []


async def test_a_write_removes_day_old_temporary_files_of_killed_writes(tmp_path: Path) -> None:
    """A daemon killed while copying leaves `.archived-part-…`; a day later the next write removes it, but never
    a younger one (another daemon may be writing it right now) nor anything else."""
    store = tmp_path / "store"
    store.mkdir()
    stale, fresh, other = store / f"{TEMP_PREFIX}dead", store / f"{TEMP_PREFIX}busy", store / "old.zip"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    two_days_ago = os.stat(stale).st_mtime - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    source, sha, size = source_file(tmp_path)
    await driver_for(store).store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert not stale.exists()
    assert fresh.exists() and other.exists() and (store / "a.zip").exists()


async def test_one_stale_file_that_cannot_be_removed_does_not_stop_the_sweep(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    stuck, stale = store / f"{TEMP_PREFIX}0-not-ours", store / f"{TEMP_PREFIX}1-dead"
    for path in (stuck, stale):
        path.write_bytes(b"x")
        old = os.stat(path).st_mtime - 2 * 24 * 3600
        os.utime(path, (old, old))
    unlink, scandir = Path.unlink, os.scandir

    def refusing(self: Path, missing_ok: bool = False) -> None:
        if "not-ours" in self.name:
            raise PermissionError(1, "Operation not permitted", str(self))
        unlink(self, missing_ok=missing_ok)

    @contextlib.contextmanager
    def in_name_order(path: Any) -> Iterator[list[os.DirEntry[str]]]:
        with scandir(path) as entries:
            yield sorted(entries, key=lambda entry: entry.name)  # the one that cannot go comes first

    monkeypatch.setattr(Path, "unlink", refusing)
    monkeypatch.setattr(local_storage.os, "scandir", in_name_order)
    source, sha, size = source_file(tmp_path)
    await driver_for(store).store(source, "a.zip", sha256=sha, size=size, retain_until=None)
    assert stuck.exists() and not stale.exists() and (store / "a.zip").exists()


async def test_a_read_only_folder_is_a_storage_outage_to_retry(tmp_path: Path) -> None:
    """On a read-only file system even the clean-up of the never-created temp file fails (EROFS); that must not
    replace the outage, which the engine retries, with an "unexpected OSError"."""
    with tmpfs(tmp_path / "ro") as mount:
        driver = driver_for(mount)
        set_read_only(mount, True)
        source, sha, size = source_file(tmp_path)
        with pytest.raises(StorageUnavailable, match=r"read-only in .*ro while writing a\.zip") as caught:
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        assert caught.value.recoverable
        set_read_only(mount, False)
        stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        assert stored.sha256 == sha


async def test_deleting_from_a_read_only_folder_is_a_storage_outage(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as mount:
        driver = driver_for(mount)
        source, sha, size = source_file(tmp_path)
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=None)
        set_read_only(mount, True)
        with pytest.raises(StorageUnavailable, match="read-only"):
            await driver.delete("a.zip")
        set_read_only(mount, False)
        assert (mount / "a.zip").exists()
