"""`archived storage status` for an S3 target: the bucket, its Object Lock and versioning, a probe, the space used.

Facts go to `StorageStatus.details` (keys `bucket`, `object_lock`, `versioning`, `archive_lock`, `checksums`,
`used`) and, in one line, to its message, which the CLI and the TUI show. The space used is counted from one
listing page (1,000 objects); a larger prefix is reported as not counted rather than listed at length.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from archived.interfaces.storage import StorageStatus
from archived_s3.config import S3Config
from archived_s3.connection import S3Connection
from archived_s3.errors import S3Failure
from archived_s3.probes import PROBE_FOLDER, write_read_delete


@dataclass(frozen=True)
class ObjectLockFacts:
    """The bucket's Object Lock configuration: enabled (None: unknown) and its default retention in words."""

    enabled: bool | None
    default_retention: str | None = None
    reason: str = ""

    def describe(self) -> str:
        """The configuration in words."""
        if self.enabled is None:
            return f"unknown ({self.reason})"
        if not self.enabled:
            return "off"
        return f"on, default {self.default_retention}" if self.default_retention else "on, no default retention"


async def object_lock_facts(conn: S3Connection) -> ObjectLockFacts:
    """Read the bucket's Object Lock configuration."""
    try:
        answer = await conn.call("get_object_lock_configuration", "reading the bucket's Object Lock configuration")
    except S3Failure as exc:
        if exc.s3_code in ("ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"):
            return ObjectLockFacts(False)
        if exc.s3_code in ("AccessDenied", "NotImplemented", "MethodNotAllowed"):
            return ObjectLockFacts(None, reason=f"{exc.s3_code} reading it")
        raise
    config = answer.get("ObjectLockConfiguration", {})
    if config.get("ObjectLockEnabled") != "Enabled":
        return ObjectLockFacts(False)
    rule = config.get("Rule", {}).get("DefaultRetention", {})
    if not rule:
        return ObjectLockFacts(True)
    count, unit = (rule["Years"], "year") if rule.get("Years") else (rule.get("Days"), "day")
    period = f"{count} {unit}{'' if count == 1 else 's'}"
    return ObjectLockFacts(True, f"{rule.get('Mode')} {period}")


async def check(
    conn: S3Connection, config: S3Config, probe_checksums: Callable[[], Awaitable[bool | None]]
) -> StorageStatus:
    """Reachability and latency (HEAD bucket), the bucket's facts, a write/read/delete probe, the space used."""
    started = time.perf_counter()
    try:
        await conn.call("head_bucket", f"reaching bucket {config.bucket}")
    except S3Failure as exc:
        message = str(exc)
        if exc.status == 404:  # HEAD answers carry no error document: say what a 404 means here
            message = f"{message}; bucket {config.bucket} does not exist there: check bucket, endpoint_url and region"
        return StorageStatus(reachable=False, message=message, details={"bucket": config.bucket})
    latency = round((time.perf_counter() - started) * 1000, 2)
    details = {"bucket": config.bucket}
    problems: list[str] = []
    lock = await _or_unknown(object_lock_facts(conn), ObjectLockFacts(None, reason="not readable"))
    details["object_lock"] = lock.describe()
    details["versioning"] = await _versioning(conn)
    details["archive_lock"] = _archive_lock(config)
    if (config.lock_mode or config.legal_hold) and lock.enabled is False:
        problems.append("the bucket has no Object Lock, but lock_mode/legal_hold is set: every store will fail")
    details["checksums"] = _checksums(config, await _or_unknown(probe_checksums(), None))
    try:
        probe = await write_read_delete(conn, config.prefix, as_upload=bool(lock.default_retention))
    except (S3Failure, ValueError) as exc:
        probe, probe_ok = f"probe failed: {exc}", False
    else:
        probe_ok = True
    used, details["used"] = await _used_bytes(conn, config.prefix)
    message = "; ".join([probe, *problems, *(f"{k.replace('_', ' ')}: {v}" for k, v in details.items())])
    return StorageStatus(
        reachable=True,
        latency_ms=latency,
        probe_ok=probe_ok and not problems,
        message=message,
        used_bytes=used,
        details=details,
    )


async def _or_unknown(awaitable: Any, fallback: Any) -> Any:
    try:
        return await awaitable
    except S3Failure:
        return fallback


async def _versioning(conn: S3Connection) -> str:
    try:
        answer = await conn.call("get_bucket_versioning", "reading the bucket's versioning")
    except S3Failure as exc:
        return f"unknown ({exc.s3_code} reading it)"
    return {"Enabled": "enabled", "Suspended": "suspended"}.get(answer.get("Status", ""), "off")


def _archive_lock(config: S3Config) -> str:
    parts = [f"{config.lock_mode} until the job's retention ends"] if config.lock_mode else []
    if config.legal_hold:
        parts.append("legal hold")
    return ", ".join(parts) or "none"


def _checksums(config: S3Config, checked: bool | None) -> str:
    if config.legacy_checksums:
        return "legacy: Content-MD5 per part, every archive read back after upload"
    if checked is None:
        return "SHA-256 per part; whether the server checks it could not be probed"
    if checked and config.read_back == "auto":
        return "SHA-256 per part, checked by the server"
    if checked:
        return "SHA-256 per part, checked by the server; every archive read back after upload (read_back)"
    return "SHA-256 per part, NOT checked by this server: every archive is read back after upload"


async def _used_bytes(conn: S3Connection, prefix: str) -> tuple[int | None, str]:
    try:
        page = await conn.call("list_objects_v2", "listing the archives", Prefix=prefix, MaxKeys=1000)
    except S3Failure as exc:
        return None, f"unknown ({exc.s3_code} listing)"
    if page.get("IsTruncated"):
        return None, "not counted (over 1,000 objects)"
    objects = [o for o in page.get("Contents", []) if not o["Key"].startswith(prefix + PROBE_FOLDER)]
    used = sum(int(o.get("Size", 0)) for o in objects)
    return used, f"{len(objects)} objects, {used} bytes"
