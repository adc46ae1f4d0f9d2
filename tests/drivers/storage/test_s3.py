"""The S3 driver against moto in server mode on loopback: writes that never overwrite, verified, streamed in parts.

moto keeps the checksums a client claims without checking them; where that matters (a corrupted part) the tests
show the driver's own check catching what moto lets through.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archived.errors import FatalError, IntegrityError
from archived.interfaces.storage import StorageConflict, StorageUnavailable
from archived_s3.upload import ConditionalWrites, KeyExists, Upload
from tests.support.s3_server import (
    LARGE,
    MIB,
    SMALL,
    CorruptingProxy,
    MakeDriver,
    S3Server,
    archive,
    driver_factory,
)
from tests.support.tcp_proxy import TcpProxy

RETAIN = datetime.now(UTC) + timedelta(days=30)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
async def make_driver(s3: S3Server, tmp_path: Path) -> AsyncIterator[MakeDriver]:
    async with driver_factory(s3, tmp_path) as make:
        yield make


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_store_and_retrieve(s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int) -> None:
    bucket = s3.bucket()
    driver = make_driver(bucket)
    source, sha, size = archive(tmp_path, size)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert (stored.location, stored.size, stored.sha256) == ("moodle/a.zip", size, sha)
    head = s3.client().head_object(Bucket=bucket, Key="moodle/a.zip", ChecksumMode="ENABLED")
    assert head["Metadata"]["sha256"] == sha and head["ContentLength"] == size
    parts = [source.read_bytes()[i : i + 5 * MIB] for i in range(0, size, 5 * MIB)]
    if size == SMALL:  # the whole-object SHA-256
        assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(sha)).decode()
    else:  # the composite: SHA-256 over the parts' digests
        composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
        assert head["ChecksumSHA256"].partition("-")[0] == base64.b64encode(composite).decode()
    assert b"".join([chunk async for chunk in driver.retrieve(stored.location)]) == source.read_bytes()
    assert s3.uploads(bucket) == []


async def test_identical_content_is_adopted_without_a_new_write(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket(object_lock=True)
    driver = make_driver(bucket)
    source, sha, size = archive(tmp_path, LARGE)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    again = make_driver(bucket)  # a restarted daemon
    assert (await again.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)).sha256 == sha
    assert len(s3.client().list_object_versions(Bucket=bucket)["Versions"]) == 1


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_other_content_is_never_overwritten(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    bucket = s3.bucket(object_lock=True)
    s3.client().put_object(Bucket=bucket, Key="moodle/a.zip", Body=b"someone else's archive")
    source, sha, size = archive(tmp_path, size)
    with pytest.raises(StorageConflict, match="worm: moodle/a.zip already exists with other content"):
        await make_driver(bucket).store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert s3.client().get_object(Bucket=bucket, Key="moodle/a.zip")["Body"].read() == b"someone else's archive"
    assert len(s3.client().list_object_versions(Bucket=bucket)["Versions"]) == 1
    assert s3.uploads(bucket) == []


async def test_same_size_and_no_metadata_is_read_back_before_adopting(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    source, sha, size = archive(tmp_path, SMALL)
    s3.client().put_object(Bucket=bucket, Key="moodle/a.zip", Body=bytes(size))  # same size, other bytes
    with pytest.raises(StorageConflict):
        await make_driver(bucket).store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_server_refuses_a_conditional_write_over_an_object(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    """If-None-Match: * is enforced by the server even when our existence check saw nothing."""
    bucket = s3.bucket()
    s3.client().put_object(Bucket=bucket, Key="moodle/a.zip", Body=b"first")
    driver = make_driver(bucket)
    source, sha, size = archive(tmp_path, size)

    async def nothing_there() -> bool:
        return False  # as if the object appeared between our check and our write

    conditional = ConditionalWrites()
    upload = Upload(driver.conn, "moodle/a.zip", source, sha256=sha, size=size, parameters={},
                    conditional=conditional, exists=nothing_there)  # fmt: skip
    with pytest.raises(KeyExists):
        await upload.write()
    assert conditional.supported is not False
    assert s3.client().get_object(Bucket=bucket, Key="moodle/a.zip")["Body"].read() == b"first"
    assert s3.uploads(bucket) == []


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_a_source_that_changed_never_becomes_an_object(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    bucket = s3.bucket()
    source, _, size = archive(tmp_path, size)
    with pytest.raises(IntegrityError, match="nothing was stored under moodle/a.zip"):
        await make_driver(bucket).store(source, "a.zip", sha256="0" * 64, size=size, retain_until=RETAIN)
    assert s3.keys(bucket) == [] and s3.uploads(bucket) == []


async def test_an_upload_left_by_a_killed_daemon_is_aborted(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    client = s3.client()
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="moodle/a.zip")["UploadId"]
    client.upload_part(Bucket=bucket, Key="moodle/a.zip", UploadId=upload_id, PartNumber=1, Body=b"x" * 5 * MIB)
    source, sha, size = archive(tmp_path, LARGE)
    await make_driver(bucket).store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert s3.uploads(bucket) == []
    assert hashlib.sha256(client.get_object(Bucket=bucket, Key="moodle/a.zip")["Body"].read()).hexdigest() == sha


async def test_a_canceled_store_aborts_its_upload(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    """A job canceled (or a daemon stopping) in the middle of an upload leaves no unfinished upload behind."""
    bucket = s3.bucket()
    source, sha, size = archive(tmp_path, 40 * MIB)
    store = asyncio.create_task(make_driver(bucket).store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN))
    while not [u for u in await asyncio.to_thread(s3.uploads, bucket) if u["Key"] == "moodle/a.zip"]:
        assert not store.done(), "the store ended before it could be canceled"
        await asyncio.sleep(0.01)
    store.cancel()
    with pytest.raises(asyncio.CancelledError):
        await store
    for _ in range(500):  # the abort runs shielded from the cancellation: give it its round trip
        if not await asyncio.to_thread(s3.uploads, bucket):
            break
        await asyncio.sleep(0.01)
    assert s3.uploads(bucket) == [] and s3.keys(bucket) == []


@pytest.mark.parametrize("size", [3 * MIB, LARGE])
async def test_a_dropped_connection_is_retried_and_leaves_nothing(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, size)
    with TcpProxy("127.0.0.1", s3.port) as proxy:
        driver = make_driver(bucket, endpoint_url=f"http://127.0.0.1:{proxy.port}", lock_mode="COMPLIANCE")
        proxy.cut_after(1 * MIB)  # every request carrying archive bytes breaks after 1 MiB
        with pytest.raises(StorageUnavailable, match="worm: writing .*moodle/a.zip failed: .*will be retried"):
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
        assert proxy.cuts >= 1
        assert s3.keys(bucket) == [] and s3.uploads(bucket) == []  # nothing half-written under any name
        proxy.heal()  # the engine's retry, once the network is back
        stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert stored.sha256 == sha and s3.keys(bucket) == ["moodle/a.zip"] and s3.uploads(bucket) == []


@pytest.mark.parametrize("size,locked", [(LARGE, False), (SMALL, True)])
async def test_a_corrupted_part_is_caught_by_our_check(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int, locked: bool
) -> None:  # the proxy counts per connection, and every request has its own: the byte falls in the first part
    """moto stores a part whose bytes no longer match the SHA-256 it came with; the driver finds out."""
    bucket = s3.bucket(object_lock=locked)
    source, sha, size = archive(tmp_path, size)
    with CorruptingProxy(s3.port, offset=min(size // 2, 3 * MIB)) as proxy:
        driver = make_driver(bucket, endpoint_url=f"http://127.0.0.1:{proxy.port}",
                             lock_mode="GOVERNANCE" if locked else None)  # fmt: skip
        with pytest.raises(IntegrityError, match="moodle/a.zip reads back as .* instead of") as caught:
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert proxy.altered == 1
    assert driver.checksums_checked is False  # moto accepted a part with a wrong SHA-256 when probed
    if locked:  # a locked copy cannot be removed: the message says so (and no job records it)
        assert "stays on the server (GOVERNANCE until" in str(caught.value)
    else:
        assert "the copy was removed" in str(caught.value) and s3.keys(bucket) == []


@pytest.mark.parametrize("size", [SMALL, LARGE])
@pytest.mark.parametrize("read_back,checked,reads", [("auto", True, 0), ("always", True, 1), ("auto", False, 1)])
async def test_when_an_archive_is_read_back(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int, read_back: str, checked: bool, reads: int
) -> None:
    """Not on a server that checks SHA-256 checksums (unless read_back = "always"); always on one that does not."""
    source, sha, size = archive(tmp_path, size)
    driver = make_driver(s3.bucket(), read_back=read_back)
    driver.checksums_checked = checked  # what the probe would have found on such a server (moto: False)
    gets: list[str] = []
    client = await driver.conn._get()
    client.meta.events.register("before-send.s3.GetObject", lambda request, **_: gets.append(request.url))
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert len(gets) == reads


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_legacy_checksums_send_no_checksum_headers(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    bucket = s3.bucket()
    source, sha, size = archive(tmp_path, size)
    driver = make_driver(bucket, legacy_checksums=True)
    sent: list[dict[str, Any]] = []
    client = await driver.conn._get()
    client.meta.events.register("before-send.s3.*", lambda request, **_: sent.append(dict(request.headers)))
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert not [
        h for headers in sent for h in headers if h.lower().startswith(("x-amz-checksum", "x-amz-sdk-checksum"))
    ]
    assert all("Content-MD5" in h for h in sent if int(h.get("Content-Length", 0) or 0) >= min(size, 5 * MIB))
    head = s3.client().head_object(Bucket=bucket, Key="moodle/a.zip")
    assert head["Metadata"]["sha256"] == sha


async def test_server_side_encryption_is_requested(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    bucket = s3.bucket()
    source, sha, size = archive(tmp_path, LARGE)
    await make_driver(bucket, sse="AES256").store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert s3.client().head_object(Bucket=bucket, Key="moodle/a.zip")["ServerSideEncryption"] == "AES256"


async def test_a_server_that_ignores_encryption_is_not_taken_for_one_that_applied_it(make_driver: MakeDriver) -> None:
    driver = make_driver("exam-archive", sse="aws:kms")
    with pytest.raises(FatalError, match="moodle/a.zip is stored with encryption AES256, not aws:kms as sse asks"):
        driver._check_encryption("moodle/a.zip", {"ServerSideEncryption": "AES256"})
    driver._check_encryption("moodle/a.zip", {"ServerSideEncryption": "aws:kms"})


@pytest.mark.parametrize("name", ["../escape.zip", "a/b.zip", ".hidden.zip", "", "line\nbreak.zip"])
async def test_unsafe_names_are_refused(s3: S3Server, make_driver: MakeDriver, tmp_path: Path, name: str) -> None:
    source, sha, size = archive(tmp_path, SMALL)
    with pytest.raises(Exception, match="unsafe object name"):
        await make_driver(s3.bucket()).store(source, name, sha256=sha, size=size, retain_until=RETAIN)
