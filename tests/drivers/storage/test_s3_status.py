"""`storage status` of an S3 target: bucket facts, a probe that leaves nothing behind (even where every new object
would be locked), the space used, and an unreachable server reported rather than raised."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.s3_server import SMALL, MakeDriver, S3Server, archive, driver_factory, free_port

RETAIN = datetime.now(UTC) + timedelta(days=30)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
async def make_driver(s3: S3Server, tmp_path: Path) -> AsyncIterator[MakeDriver]:
    async with driver_factory(s3, tmp_path) as make:
        yield make


async def test_status_of_a_plain_bucket(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    bucket = s3.bucket()
    driver = make_driver(bucket)
    source, sha, size = archive(tmp_path, SMALL)
    await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    status = await driver.status()
    assert status.reachable and status.probe_ok and status.latency_ms is not None
    assert status.message.startswith("probe write/read/delete ok;")
    assert status.details["object_lock"] == "off" and status.details["versioning"] == "off"
    assert status.details["archive_lock"] == "none"
    assert "NOT checked by this server" in status.details["checksums"]  # moto keeps whatever checksum it is sent
    assert status.used_bytes == size and status.details["used"] == f"1 objects, {size} bytes"
    assert (status.free_bytes, status.total_bytes) == (None, None)
    assert s3.keys(bucket) == ["moodle/a.zip"] and s3.uploads(bucket) == []  # the probe left nothing


async def test_status_of_a_bucket_whose_default_retention_locks_everything(
    s3: S3Server, make_driver: MakeDriver
) -> None:
    bucket = s3.bucket(object_lock=True, default_retention={"Mode": "COMPLIANCE", "Years": 3})
    status = await make_driver(bucket, lock_mode="COMPLIANCE", legal_hold=True).status()
    assert status.reachable and status.probe_ok, status.message
    assert status.details["object_lock"] == "on, default COMPLIANCE 3 years"
    assert status.details["versioning"] == "enabled"
    assert status.details["archive_lock"] == "COMPLIANCE until the job's retention ends, legal hold"
    assert "an aborted upload" in status.message  # a probe object there could never be deleted
    listing = s3.client().list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == [] and s3.uploads(bucket) == []


async def test_status_of_a_lock_bucket_without_default_retention(s3: S3Server, make_driver: MakeDriver) -> None:
    bucket = s3.bucket(object_lock=True)
    status = await make_driver(bucket).status()
    assert status.probe_ok and status.details["object_lock"] == "on, no default retention"
    listing = s3.client().list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


async def test_status_warns_when_lock_mode_meets_a_bucket_without_object_lock(
    s3: S3Server, make_driver: MakeDriver
) -> None:
    status = await make_driver(s3.bucket(), lock_mode="GOVERNANCE").status()
    assert status.reachable and not status.probe_ok
    assert "the bucket has no Object Lock, but lock_mode/legal_hold is set: every store will fail" in status.message


async def test_status_of_an_unreachable_server(make_driver: MakeDriver) -> None:
    driver = make_driver("exam-archive", endpoint_url=f"http://127.0.0.1:{free_port()}", connect_timeout_seconds=2)
    status = await driver.status()
    assert not status.reachable and not status.probe_ok
    assert status.message.startswith("storage target worm: reaching bucket exam-archive failed: ")


async def test_status_of_a_missing_bucket(make_driver: MakeDriver) -> None:
    status = await make_driver("no-such-bucket-here").status()
    assert not status.reachable
    assert "bucket no-such-bucket-here does not exist there: check bucket, endpoint_url and region" in status.message
