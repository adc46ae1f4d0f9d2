"""How S3 failures reach the engine: transient ones retried, permanent ones naming the target and the reason, and
never a secret in an error, its traceback or a log line, even from a server that echoes one back."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archived.errors import FatalError
from archived.interfaces.storage import StorageUnavailable, Tier
from archived_s3.config import S3Config
from archived_s3.storage import S3Storage
from tests.support.s3_server import (
    ACCESS_KEY_ID,
    SECRET_KEY,
    SMALL,
    ErrorServer,
    MakeDriver,
    S3Server,
    archive,
    driver_factory,
    free_port,
)

RETAIN = datetime.now(UTC) + timedelta(days=30)
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token-0123456789"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
async def make_driver(s3: S3Server, tmp_path: Path) -> AsyncIterator[MakeDriver]:
    async with driver_factory(s3, tmp_path) as make:
        yield make


async def test_a_missing_bucket_is_permanent_and_named(make_driver: MakeDriver, tmp_path: Path) -> None:
    source, sha, size = archive(tmp_path, SMALL)
    with pytest.raises(FatalError) as caught:
        await make_driver("no-such-bucket-here").store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
    assert not caught.value.recoverable
    assert str(caught.value).startswith("storage target worm: ")
    assert "NoSuchBucket (HTTP 404)" in str(caught.value)
    assert "bucket no-such-bucket-here does not exist at http://127.0.0.1:" in str(caught.value)


async def test_an_unreachable_server_is_transient(make_driver: MakeDriver, tmp_path: Path) -> None:
    source, sha, size = archive(tmp_path, SMALL)
    driver = make_driver("exam-archive", endpoint_url=f"http://127.0.0.1:{free_port()}", connect_timeout_seconds=2)
    expected = r"storage target worm: .* failed: could not connect to the server at http://127\.0\.0\.1:\d+ \(End"
    with pytest.raises(StorageUnavailable, match=expected):
        await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)


@pytest.mark.parametrize(
    "status,code,recoverable",
    [(503, "SlowDown", True), (500, "InternalError", True), (429, "TooManyRequests", True),
     (403, "AccessDenied", False), (403, "InvalidAccessKeyId", False), (400, "InvalidRequest", False)],
)  # fmt: skip
async def test_failures_are_classified(
    make_driver: MakeDriver, tmp_path: Path, status: int, code: str, recoverable: bool
) -> None:
    source, sha, size = archive(tmp_path, SMALL)
    with ErrorServer(status, code, "refused by the test server") as server:
        driver = make_driver("exam-archive", endpoint_url=server.endpoint_url, legacy_checksums=True)
        with pytest.raises(StorageUnavailable if recoverable else FatalError) as stored:
            await driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN)
        with pytest.raises(StorageUnavailable if recoverable else FatalError) as read:  # a GET: with the document
            await _drain(driver.retrieve("moodle/a.zip"))
    assert stored.value.recoverable is recoverable and read.value.recoverable is recoverable
    assert str(stored.value).startswith("storage target worm: ") and f"(HTTP {status})" in str(stored.value)
    assert f"reading moodle/a.zip failed: {code} (HTTP {status}): refused by the test server" in str(read.value)
    if code == "AccessDenied":
        assert "check its bucket/IAM policy" in str(read.value)
    if code == "InvalidAccessKeyId":
        assert "check the credentials (" in str(read.value) and "credentials [default])" in str(read.value)


async def _fail_everywhere(driver: S3Storage, tmp_path: Path) -> list[BaseException]:
    """Every public operation of the driver, each expected to fail; the exceptions."""
    source, sha, size = archive(tmp_path, SMALL)
    errors: list[BaseException] = []
    operations: list[Any] = [
        lambda: driver.store(source, "a.zip", sha256=sha, size=size, retain_until=RETAIN),
        lambda: driver.delete("moodle/a.zip"),
        lambda: _drain(driver.retrieve("moodle/a.zip")),
    ]
    for operation in operations:
        try:
            await operation()
        except Exception as exc:
            errors.append(exc)
    status = await driver.status()
    assert not status.reachable
    errors.append(Exception(status.message))
    return errors


async def _drain(stream: AsyncIterator[bytes]) -> None:
    async for _ in stream:
        pass


@pytest.mark.parametrize("server_kind", ["echoing", "unreachable"])
async def test_no_secret_in_errors_tracebacks_or_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, server_kind: str
) -> None:
    """A server that echoes the secret key and the session token, and one that cannot be reached; logs at DEBUG."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    caplog.set_level(logging.DEBUG)  # the daemon with log_level = "debug"
    echo = f"denied for token {SESSION_TOKEN} and key {SECRET_KEY}"
    with ErrorServer(403, "AccessDenied", echo) as server:
        endpoint = server.endpoint_url if server_kind == "echoing" else f"http://127.0.0.1:{free_port()}"
        config = S3Config(endpoint_url=endpoint, bucket="exam-archive", addressing_style="path")
        driver = S3Storage("worm", config, Tier.REMOTE_SLOW)
        try:
            errors = await _fail_everywhere(driver, tmp_path)
        finally:
            await driver.close()
    assert len(errors) == 4
    texts = [caplog.text, repr(driver), repr(driver.conn), repr(driver.conn.credentials)]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in texts:
        assert SECRET_KEY not in text and SESSION_TOKEN not in text, text
    if server_kind == "echoing":
        assert "denied for token *** and key ***" in str(errors[0])
        assert ACCESS_KEY_ID in caplog.text or ACCESS_KEY_ID not in caplog.text  # the key id is no secret
