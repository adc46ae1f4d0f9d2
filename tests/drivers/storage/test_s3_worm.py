"""WORM on moto's Object Lock buckets: every archive locked until its retention ends, deletions refused by the server
and by the driver (naming the date), the governance bypass only when configured, and logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.exceptions
import pytest

from archived.errors import FatalError
from archived.interfaces.storage import RetentionLocked
from archived_s3.worm import utc_text, whole_second
from tests.support.s3_server import LARGE, SMALL, MakeDriver, S3Server, archive, driver_factory

RETAIN = datetime.now(UTC) + timedelta(days=30)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
async def make_driver(s3: S3Server, tmp_path: Path) -> AsyncIterator[MakeDriver]:
    async with driver_factory(s3, tmp_path) as make:
        yield make


@pytest.mark.parametrize("size", [SMALL, LARGE])  # moto drops the lock of a multipart upload: the driver sets it
async def test_every_archive_is_locked_and_the_server_refuses_its_deletion(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, size: int
) -> None:
    bucket = s3.bucket(object_lock=True)
    driver = make_driver(bucket, lock_mode="COMPLIANCE")
    source, sha, size = archive(tmp_path, size)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    client = s3.client()
    head = client.head_object(Bucket=bucket, Key=stored.location)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= RETAIN.replace(microsecond=0)
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=stored.location, VersionId=head["VersionId"])
    with pytest.raises(RetentionLocked) as refused:
        await driver.delete(stored.location)
    assert str(refused.value) == (
        f"storage target worm: moodle/a.zip is locked (COMPLIANCE) until {utc_text(whole_second(RETAIN))}; "
        "nobody can delete it before then"
    )
    assert s3.keys(bucket) == ["moodle/a.zip"]
    assert client.get_object(Bucket=bucket, Key=stored.location)["Body"].read() == source.read_bytes()


async def test_governance_lock_is_not_bypassed_unless_configured(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, SMALL)
    stored = await make_driver(bucket, lock_mode="GOVERNANCE").store(
        source, "a.zip", sha256=sha, size=size, retain_until=RETAIN
    )
    with pytest.raises(RetentionLocked, match=r"locked \(GOVERNANCE\) until .*set allow_governance_bypass = true in "):
        await make_driver(bucket, lock_mode="GOVERNANCE").delete(stored.location)
    assert s3.keys(bucket) == ["moodle/a.zip"]


async def test_governance_bypass_when_configured_is_logged(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, SMALL)
    driver = make_driver(bucket, lock_mode="GOVERNANCE", allow_governance_bypass=True)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    with caplog.at_level(logging.WARNING, logger="archived_s3"):
        await driver.delete(stored.location)
    assert s3.keys(bucket) == []
    assert any(
        "deleted moodle/a.zip" in r.getMessage() and "governance bypass" in r.getMessage() for r in caplog.records
    )


async def test_a_legal_hold_refuses_deletion(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, LARGE)
    driver = make_driver(bucket, legal_hold=True, allow_governance_bypass=True)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert s3.client().head_object(Bucket=bucket, Key=stored.location)["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(RetentionLocked, match="under a legal hold"):
        await driver.delete(stored.location)
    assert s3.keys(bucket) == ["moodle/a.zip"]


async def test_an_unlocked_archive_is_deleted_with_every_version(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket(object_lock=True)  # versioned: a plain DELETE would only hide the object behind a marker
    source, sha, size = archive(tmp_path, SMALL)
    driver = make_driver(bucket)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    await driver.delete(stored.location)
    listing = s3.client().list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []
    await driver.delete(stored.location)  # already gone: nothing to do


async def test_an_expired_retention_allows_deletion(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, SMALL)
    driver = make_driver(bucket, lock_mode="COMPLIANCE")
    soon = datetime.now(UTC) + timedelta(seconds=2)
    stored = await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=soon)
    with pytest.raises(RetentionLocked):
        await driver.delete(stored.location)
    await asyncio.sleep((whole_second(soon) - datetime.now(UTC)).total_seconds() + 1.1)  # the retention ends
    await driver.delete(stored.location)
    assert s3.keys(bucket) == []


async def test_lock_mode_on_a_bucket_without_object_lock_fails_clearly(
    s3: S3Server, make_driver: MakeDriver, tmp_path: Path
) -> None:
    bucket = s3.bucket(object_lock=False)
    source, sha, size = archive(tmp_path, SMALL)
    with pytest.raises(FatalError, match=f"lock_mode = COMPLIANCE, but bucket {bucket} has no Object Lock"):
        await make_driver(bucket, lock_mode="COMPLIANCE").store(
            source, "a.zip", sha256=sha, size=size, retain_until=RETAIN
        )
    assert s3.keys(bucket) == []


async def test_a_resumed_job_completes_a_missing_lock(s3: S3Server, make_driver: MakeDriver, tmp_path: Path) -> None:
    """An object written before the lock could be set (a daemon killed in between) is adopted and locked."""
    bucket = s3.bucket(object_lock=True)
    source, sha, size = archive(tmp_path, SMALL)
    s3.client().put_object(Bucket=bucket, Key="moodle/a.zip", Body=source.read_bytes(), Metadata={"sha256": sha})
    await make_driver(bucket, lock_mode="COMPLIANCE").store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    head = s3.client().head_object(Bucket=bucket, Key="moodle/a.zip")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] >= whole_second(RETAIN)
