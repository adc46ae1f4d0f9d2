"""S3-compatible storage with WORM Object Lock: archives as objects `<prefix><name>` in one bucket.

A store never overwrites: an object already at the key is adopted if it holds exactly this archive (a resumed job)
and refused otherwise (`StorageConflict`); the write itself is conditional (see `upload.py`). What was written is
verified before the store returns:

- size and `x-amz-meta-sha256` (the archive's whole-object SHA-256, which the upload computed over the bytes it
  sent and compared with the job's before completing);
- the server's SHA-256 checksum: the whole-object one of a single PUT, or the composite of a multipart upload,
  compared with the composite of our parts (`checksums.py` explains the difference);
- the object read back and hashed, whenever that evidence is weaker: the server did not refuse a part with a wrong
  checksum when probed (so its checksums only repeat ours), it answered no checksum, an ETag contradicted our
  MD5, `legacy_checksums` is on, or `read_back = "always"`.

A copy that fails verification is deleted if its lock allows, and the store fails with `IntegrityError`.

WORM: with `lock_mode`, every archive is written with that mode and a retain-until date from the job's retention
(optionally a legal hold), read back and completed if the server dropped it (`worm.py`). `delete` removes every
version of the key, and refuses with `RetentionLocked`, naming the date, while any lock holds; a GOVERNANCE lock
is bypassed only with `allow_governance_bypass`, and each bypass is logged as a warning on this module's logger.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archived.errors import FatalError, IntegrityError
from archived.interfaces.storage import (
    RetentionLocked,
    StorageConfig,
    StorageConflict,
    StorageDriver,
    StorageStatus,
    StoredObject,
    Tier,
)
from archived_s3 import status as status_check
from archived_s3.checksums import METADATA_KEY, UploadDigests, matches
from archived_s3.config import S3Config
from archived_s3.connection import S3Connection, version_of
from archived_s3.credentials import load_credentials
from archived_s3.errors import S3Failure, S3Refused, S3Unavailable
from archived_s3.probes import server_checks_sha256
from archived_s3.upload import (
    ConditionalWrites,
    KeyExists,
    Upload,
    Written,
    abort_stale_uploads,
    abort_uploads_of,
    part_size_for,
)
from archived_s3.worm import LockState, bypasses, deletion_refusal, missing_lock, utc_text, write_parameters

log = logging.getLogger(__name__)

BUCKET_RECHECK_SECONDS = 3600  # the bucket's Object Lock and the stale-upload sweep, at most hourly
STALE_UPLOAD_AGE = timedelta(days=1)  # no store takes a day; a younger upload may be another store in progress


class S3Storage(StorageDriver):
    """Stores archives as objects in an S3-compatible bucket, with Object Lock (see the module docstring)."""

    name = "s3"
    config_model = S3Config

    def __init__(self, target: str, config: StorageConfig, tier: Tier) -> None:
        super().__init__(target, config, tier)
        assert isinstance(config, S3Config)
        self.s3 = config
        # Read now: a missing or unsafe credentials file stops the daemon's start, naming the key.
        self.conn = S3Connection(target, config, load_credentials(target, config))
        self.conditional = ConditionalWrites()
        self.checksums_checked: bool | None = None  # does the server refuse a part with a wrong SHA-256?
        self._bucket_checked = float("-inf")

    def __repr__(self) -> str:
        return f"S3Storage(target={self.target!r}, bucket={self.s3.bucket!r}, prefix={self.s3.prefix!r})"

    # -- names ----------------------------------------------------------------------------------------------

    def _key_of(self, name: str) -> str:
        if "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith(".") or not name.isprintable():
            raise FatalError(f"storage target {self.target}: refusing unsafe object name {name!r}")
        return self.s3.prefix + name

    def _checked_location(self, location: str) -> str:
        if not location or location.startswith("/") or ".." in location.split("/") or not location.isprintable():
            raise FatalError(f"storage target {self.target}: refusing unsafe location {location!r}")
        return location

    # -- store ----------------------------------------------------------------------------------------------

    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Upload `source` as `<prefix><name>` (see the module docstring); the location is the object key."""
        key = self._key_of(name)
        await self._prepare()
        head = await self._head(key)
        if head is None:
            # A daemon killed in the middle of an upload of this key left it unfinished: it is never resumed (its
            # parts may belong to another build of the archive), only aborted.
            if aborted := await abort_uploads_of(self.conn, key):
                log.info("storage target %s: aborted %d unfinished upload(s) of %s", self.target, aborted, key)
            parameters = self._write_parameters(sha256, retain_until)
            upload = Upload(
                self.conn, key, source, sha256=sha256, size=size, parameters=parameters,
                conditional=self.conditional, exists=lambda: self._exists(key),
            )  # fmt: skip
            try:
                written = await upload.write()
            except KeyExists:
                head = await self._head(key)
                if head is None:
                    raise S3Unavailable(
                        f"storage target {self.target}: the server refused {key} as existing but does not show it; "
                        "will be retried"
                    ) from None
            else:
                head = await self._head(key, written.version_id)
                if head is None:
                    raise S3Unavailable(f"storage target {self.target}: {key} is not visible after writing it")
                await self._verify_written(key, head, written, sha256, size)
                await self._complete_lock(key, head, retain_until)
                self._check_encryption(key, head)
                return StoredObject(location=key, size=size, sha256=sha256)
        await self._adopt(key, head, source, sha256, size)
        await self._complete_lock(key, head, retain_until)
        self._check_encryption(key, head)
        return StoredObject(location=key, size=size, sha256=sha256)

    def _write_parameters(self, sha256: str, retain_until: datetime | None) -> dict[str, Any]:
        params: dict[str, Any] = {"Metadata": {METADATA_KEY: sha256}, "ContentType": "application/zip"}
        params |= write_parameters(self.s3, retain_until, datetime.now(UTC))
        if self.s3.sse != "none":
            params["ServerSideEncryption"] = self.s3.sse
        if self.s3.kms_key_id:
            params["SSEKMSKeyId"] = self.s3.kms_key_id
        return params

    def _check_encryption(self, key: str, head: dict[str, Any]) -> None:
        """A server that ignores the encryption asked for must not pass for one that applied it."""
        if self.s3.sse != "none" and head.get("ServerSideEncryption") != self.s3.sse:
            found = head.get("ServerSideEncryption") or "none"
            raise S3Refused(
                f"storage target {self.target}: {key} is stored with encryption {found}, not {self.s3.sse} as sse "
                "asks; the server ignores the request: enable encryption at rest on the bucket, or change sse"
            )

    async def _prepare(self) -> None:
        """Hourly: the bucket can lock what we write; whether it checks checksums; stale uploads aborted."""
        if time.monotonic() - self._bucket_checked < BUCKET_RECHECK_SECONDS:
            return
        if self.s3.lock_mode or self.s3.legal_hold:
            lock = await status_check.object_lock_facts(self.conn)
            if lock.enabled is False:
                setting = f"lock_mode = {self.s3.lock_mode}" if self.s3.lock_mode else "legal_hold = true"
                raise S3Refused(
                    f"storage target {self.target}: {setting}, but bucket {self.s3.bucket} has no Object Lock, so "
                    "archives could be deleted or overwritten; enable Object Lock on the bucket (some servers allow "
                    "it only when the bucket is created) or remove the setting"
                )
        await self._probe_checksums()
        try:
            if aborted := await abort_stale_uploads(self.conn, self.s3.prefix, STALE_UPLOAD_AGE):
                log.info("storage target %s: aborted %d upload(s) unfinished for over a day", self.target, aborted)
        except S3Refused as exc:  # tidying up needs s3:ListBucketMultipartUploads, which a store can do without
            log.warning("storage target %s: could not list unfinished uploads: %s", self.target, exc)
        self._bucket_checked = time.monotonic()

    async def _head(self, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        params: dict[str, Any] = {"Key": key, **version_of({"VersionId": version_id})}
        if not self.s3.legacy_checksums:
            params["ChecksumMode"] = "ENABLED"
        try:
            return await self.conn.call("head_object", f"checking {key}", **params)
        except S3Failure as exc:
            if exc.status == 404 or exc.s3_code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    async def _exists(self, key: str) -> bool:
        return await self._head(key) is not None

    async def _verify_written(self, key: str, head: dict[str, Any], written: Written, sha256: str, size: int) -> None:
        """Check a fresh object (see the module docstring); a bad copy is removed if its lock allows."""
        problem = self._evidence_problem(head, sha256, size)
        if problem is None and self._needs_read_back(head, written.digests, sha256, written.etags_confirmed):
            problem = await self._read_back_problem(key, head, sha256, size)
        if problem is None:
            return
        removed = await self._discard(key, head)
        raise IntegrityError(f"storage target {self.target}: {key} {problem}; {removed}")

    def _evidence_problem(self, head: dict[str, Any], sha256: str, size: int) -> str | None:
        """What the server's answer contradicts, if anything."""
        if head.get("ContentLength") != size:
            return f"has {head.get('ContentLength')} bytes instead of {size}"
        recorded = (head.get("Metadata") or {}).get(METADATA_KEY)
        if recorded is not None and recorded != sha256:
            return f"carries sha256 {recorded[:12]}… in its metadata instead of {sha256[:12]}…"
        return None

    def _needs_read_back(self, head: dict[str, Any], digests: UploadDigests | None, sha256: str, etags: bool) -> bool:
        if self.s3.read_back == "always" or self.s3.legacy_checksums or not self.checksums_checked or not etags:
            return True
        if (head.get("Metadata") or {}).get(METADATA_KEY) != sha256:
            return True
        return matches(head.get("ChecksumSHA256"), sha256, digests) is not True

    async def _read_back_problem(self, key: str, head: dict[str, Any], sha256: str, size: int) -> str | None:
        answer = await self.conn.call("get_object", f"reading {key} back", Key=key, **version_of(head))
        digest, read = hashlib.sha256(), 0
        async for chunk in self.conn.stream(answer["Body"], f"reading {key} back"):
            read += len(chunk)
            await asyncio.to_thread(digest.update, chunk)
        if (read, digest.hexdigest()) == (size, sha256):
            return None
        found = f"{read} bytes sha256 {digest.hexdigest()[:12]}…"
        return f"reads back as {found} instead of {size} bytes sha256 {sha256[:12]}…"

    async def _discard(self, key: str, head: dict[str, Any]) -> str:
        """Delete the version we just wrote, if no lock holds it; says what became of it."""
        state = LockState.of(head)
        if state.legal_hold or state.retained(datetime.now(UTC)):
            return f"the copy stays on the server ({state.describe()}); no job records it"
        try:
            await self.conn.call("delete_object", f"removing the bad copy {key}", Key=key, **version_of(head))
        except S3Failure as exc:
            return f"the copy could not be removed ({exc})"
        return "the copy was removed"

    async def _adopt(self, key: str, head: dict[str, Any], source: Path, sha256: str, size: int) -> None:
        """An object is at the key already: it must be exactly this archive (a resumed job), or it is a conflict."""
        conflict = StorageConflict(f"storage target {self.target}: {key} already exists with other content")
        if self._evidence_problem(head, sha256, size) is not None:
            raise conflict
        digests = None
        server_sum = head.get("ChecksumSHA256")
        if server_sum and matches(server_sum, sha256, None) is None:
            # A composite: compare it with our parts, cut as this target cuts them (a local read, not a download).
            digests = await asyncio.to_thread(_digests_of, source, part_size_for(size, self.s3.part_size))
        if self._needs_read_back(head, digests, sha256, True) and await self._read_back_problem(
            key, head, sha256, size
        ):
            raise conflict
        log.info("storage target %s: %s already holds this archive (verified); adopted", self.target, key)

    async def _complete_lock(self, key: str, head: dict[str, Any], retain_until: datetime | None) -> None:
        """Set the lock the server did not apply at write time (or an adopted object lacks)."""
        retention, legal_hold = missing_lock(self.s3, LockState.of(head), retain_until, datetime.now(UTC))
        version = version_of(head)
        if retention is not None:
            await self.conn.call("put_object_retention", f"locking {key}", Key=key, Retention=retention, **version)
            log.info(
                "storage target %s: %s locked %s until %s after writing (the server had not applied the lock)",
                self.target, key, retention["Mode"], utc_text(retention["RetainUntilDate"]),
            )  # fmt: skip
        if legal_hold:
            await self.conn.call(
                "put_object_legal_hold", f"placing a legal hold on {key}", Key=key, LegalHold={"Status": "ON"},
                **version,
            )  # fmt: skip

    # -- retrieve and delete ----------------------------------------------------------------------------------

    async def retrieve(self, location: str) -> AsyncIterator[bytes]:
        """Stream a stored archive (the latest version of its key)."""
        key = self._checked_location(location)
        try:
            answer = await self.conn.call("get_object", f"reading {key}", Key=key)
        except S3Failure as exc:
            if exc.status == 404 or exc.s3_code == "NoSuchKey":
                raise S3Refused(f"storage target {self.target}: {key} does not exist") from None
            raise
        async for chunk in self.conn.stream(answer["Body"], f"reading {key}"):
            yield chunk

    async def delete(self, location: str) -> None:
        """Delete every version of the key; `RetentionLocked` (naming the date) while any lock holds."""
        key = self._checked_location(location)
        now = datetime.now(UTC)
        plan: list[tuple[dict[str, Any], LockState]] = []
        for version_id, is_marker in await self._versions(key):
            params: dict[str, Any] = {"Key": key, **version_of({"VersionId": version_id})}
            state = LockState()
            if not is_marker:
                head = await self._head(key, version_id)
                if head is None:
                    continue
                state = LockState.of(head)
                refusal = deletion_refusal(self.target, self.s3, key, state, now)
                if refusal is not None:
                    raise refusal
                if bypasses(state, now):
                    params["BypassGovernanceRetention"] = True
            plan.append((params, state))
        for params, state in plan:  # all checked first: a refused version must not leave the others half deleted
            try:
                await self.conn.call("delete_object", f"deleting {key}", **params)
            except S3Refused as exc:
                if exc.s3_code == "AccessDenied" and (state.legal_hold or state.retained(now)):
                    raise RetentionLocked(
                        f"storage target {self.target}: the server refused to delete {key} ({state.describe()})"
                    ) from None
                raise
            if params.get("BypassGovernanceRetention"):
                log.warning(
                    "storage target %s: deleted %s (version %s) before its GOVERNANCE retention ended (%s), using "
                    "the governance bypass (allow_governance_bypass = true)",
                    self.target, key, params.get("VersionId", "-"), state.describe(),
                )  # fmt: skip

    async def _versions(self, key: str) -> list[tuple[str | None, bool]]:
        """Every version and delete marker of exactly `key`: (version id or None if unversioned, is a marker)."""
        found: list[tuple[str | None, bool]] = []
        markers: dict[str, str] = {}
        while True:
            try:
                page = await self.conn.call(
                    "list_object_versions", f"listing the versions of {key}", Prefix=key, **markers
                )
            except S3Refused as exc:
                if exc.s3_code not in ("NotImplemented", "AccessDenied", "MethodNotAllowed"):
                    raise
                head = await self._head(key)  # a server without versions: the one object there is
                return [] if head is None else [(version_of(head).get("VersionId"), False)]
            for entry in page.get("Versions", []):
                if entry["Key"] == key:
                    found.append((version_of(entry).get("VersionId"), False))
            for entry in page.get("DeleteMarkers", []):
                if entry["Key"] == key:
                    found.append((version_of(entry).get("VersionId"), True))
            if not page.get("IsTruncated"):
                return found
            markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}

    # -- status ---------------------------------------------------------------------------------------------

    async def status(self) -> StorageStatus:
        """Bucket reachable, Object Lock and versioning, a write/read/delete probe, latency, space used."""
        return await status_check.check(self.conn, self.s3, self._probe_checksums)

    async def _probe_checksums(self) -> bool | None:
        """Whether the server checks SHA-256 checksums, probed once (None with `legacy_checksums`)."""
        if self.checksums_checked is None and not self.s3.legacy_checksums:
            self.checksums_checked = await server_checks_sha256(self.conn, self.s3.prefix)
        return self.checksums_checked

    async def close(self) -> None:
        """Close the client's connections."""
        await self.conn.close()


def _digests_of(source: Path, part_size: int) -> UploadDigests:
    """The digests an upload of `source` in parts of `part_size` would have (to compare with a composite)."""
    digests = UploadDigests()
    with source.open("rb") as handle:
        while data := handle.read(part_size):
            digests.add(data)
    return digests
