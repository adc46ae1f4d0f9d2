"""Getting an archive back from each storage driver, against real servers on loopback (moto, asyncssh, pyftpdlib):
a copy that is what the store recorded arrives and verifies; a tampered copy is refused naming its target, and the
archive comes from the next target that holds a good copy; a copy that matches its record but fails `archived verify`
is refused too."""

from __future__ import annotations

import contextlib
import hashlib
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from archived.archive.verify import verify_archive
from archived.interfaces.storage import StorageDriver, Tier
from archived.jobs.archive_retrieval import ArchiveUnavailable, retrieve_verified
from archived.store.records import Artifact, StoredLocation
from archived.targets import StorageTarget
from archived_local.storage import LocalDirectoryConfig, LocalDirectoryStorage
from tests.archive.test_bag import build
from tests.drivers.storage import test_ftp, test_sftp
from tests.support.ftp_server import FtpTestServer
from tests.support.s3_server import S3Server, driver_factory
from tests.support.sftp_server import SftpTestServer

pytestmark = pytest.mark.slow

DRIVERS = ("local", "s3", "sftp", "ftp")
Tamper = Callable[[str], None]  # alters the stored object at a location behind the driver's back


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


@contextlib.asynccontextmanager
async def storage(kind: str, tmp_path: Path) -> AsyncIterator[tuple[StorageDriver, Tamper]]:
    """A driver of `kind` on a real server of its own, and how to tamper with what it stored."""
    folder = tmp_path / kind
    folder.mkdir()
    if kind == "local":
        config = LocalDirectoryConfig(path=folder / "archive")
        yield LocalDirectoryStorage(kind, config, Tier.LOCAL), lambda loc: flip_byte(folder / "archive" / loc)
    elif kind == "s3":
        with S3Server() as server:
            bucket = server.bucket()
            async with driver_factory(server, folder) as make:

                def tamper_s3(key: str) -> None:
                    body = bytearray(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())
                    body[len(body) // 2] ^= 0xFF
                    server.client().put_object(Bucket=bucket, Key=key, Body=bytes(body))

                yield make(bucket), tamper_s3
    elif kind == "sftp":
        sftp = SftpTestServer(folder / "server")
        (sftp.root / "archive").mkdir()
        sftp.start()
        try:
            driver = test_sftp.driver_for(sftp, folder)
            yield driver, lambda loc: flip_byte(sftp.root / "archive" / loc)
            await driver.close()
        finally:
            sftp.stop()
    else:
        with FtpTestServer(folder / "server") as ftp:
            (ftp.root / "archive").mkdir()
            driver = test_ftp.driver_for(ftp, folder, None)
            yield driver, lambda loc: flip_byte(ftp.root / "archive" / loc)
            await driver.close()


async def store_copy(driver: StorageDriver, archive: Path, artifact: Artifact) -> StoredLocation:
    """Store the archive on `driver` and record the copy on `artifact`, as the store stage does."""
    stored = await driver.store(archive, artifact.name, sha256=artifact.sha256, size=artifact.size, retain_until=None)
    location = StoredLocation(driver.target, stored.location, stored.size, stored.sha256, time.time())
    artifact.locations.append(location)
    return location


def artifact_of(archive: Path) -> Artifact:
    data = archive.read_bytes()
    return Artifact(1, "job-1", archive.name, len(data), hashlib.sha256(data).hexdigest(), time.time(), None)


@pytest.mark.parametrize("kind", DRIVERS)
async def test_a_copy_arrives_verified_and_a_tampered_one_is_refused_by_name(kind: str, tmp_path: Path) -> None:
    archive = build(tmp_path)
    artifact = artifact_of(archive)
    async with storage(kind, tmp_path) as (driver, tamper):
        name = driver.target
        targets = {name: StorageTarget(name, kind, driver, driver.tier, False)}
        location = await store_copy(driver, archive, artifact)

        got = await retrieve_verified(artifact, targets, tmp_path / "in", only=name)
        assert (got.target, got.location, got.refused) == (name, location.location, [])
        assert got.path.read_bytes() == archive.read_bytes()
        assert got.checks[0] == f"sha256 as recorded: {artifact.sha256}" and len(got.checks) > 3

        tamper(location.location)
        with pytest.raises(ArchiveUnavailable) as refused:
            await retrieve_verified(artifact, targets, tmp_path / "in2", only=name)
        assert f"{name}: the copy at {location.location} has {artifact.size} bytes, sha256 " in str(refused.value)
        assert list((tmp_path / "in2").iterdir()) == []  # nothing of the refused copy is left behind


async def test_a_tampered_local_copy_is_passed_over_for_the_next_target(tmp_path: Path) -> None:
    archive = build(tmp_path)
    artifact = artifact_of(archive)
    async with storage("local", tmp_path) as (local, tamper), storage("sftp", tmp_path) as (sftp, _):
        targets = {
            "local": StorageTarget("local", "local", local, Tier.LOCAL, True),
            sftp.target: StorageTarget(sftp.target, "sftp", sftp, sftp.tier, False),
        }
        tamper((await store_copy(local, archive, artifact)).location)
        await store_copy(sftp, archive, artifact)
        got = await retrieve_verified(artifact, targets, tmp_path / "in")
    assert got.target == "remote" and [r.target for r in got.refused] == ["local"]
    assert "sha256" in got.refused[0].reason
    assert got.path.read_bytes() == archive.read_bytes()


async def test_a_copy_that_matches_its_record_but_fails_verification_is_refused(tmp_path: Path) -> None:
    """The store's record alone is not trusted: the archive must pass every check of `archived verify` too."""
    good = build(tmp_path)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as dest:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("attempts.csv"):
                data = data.replace(b"jmueller", b"jmuellex")  # no longer the bytes the manifest lists
            dest.writestr(item, data)
    assert not verify_archive(broken).ok
    artifact = artifact_of(broken)
    async with storage("local", tmp_path) as (local, _):
        await store_copy(local, broken, artifact)
        with pytest.raises(ArchiveUnavailable, match=r"local: the copy fails verification: .*attempts\.csv"):
            await retrieve_verified(artifact, {"local": StorageTarget("local", "local", local, Tier.LOCAL, True)},
                                    tmp_path / "in")  # fmt: skip


class BuggyLocalStorage(LocalDirectoryStorage):
    """A driver whose reads raise an exception that is not one of archived's (nothing here can produce one)."""

    def retrieve(self, location: str) -> AsyncIterator[bytes]:
        raise KeyError("a driver bug")


async def test_a_driver_bug_is_a_refusal_and_the_next_target_is_tried(tmp_path: Path) -> None:
    archive = build(tmp_path)
    artifact = artifact_of(archive)
    buggy = BuggyLocalStorage("buggy", LocalDirectoryConfig(path=tmp_path / "buggy"), Tier.LOCAL)
    good = LocalDirectoryStorage("good", LocalDirectoryConfig(path=tmp_path / "good"), Tier.REMOTE_FAST)
    for driver in (buggy, good):
        await store_copy(driver, archive, artifact)
    targets = {d.target: StorageTarget(d.target, "local", d, d.tier, True) for d in (buggy, good)}
    got = await retrieve_verified(artifact, targets, tmp_path / "in")
    assert got.target == "good" and [(r.target, "KeyError" in r.reason) for r in got.refused] == [("buggy", True)]
