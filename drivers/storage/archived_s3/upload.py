"""Writing one archive to a key: a single PUT up to one part's size, a multipart upload above it.

Memory stays bounded: the file is read one part at a time (`part_size_mib`), hashed in a worker thread and sent;
only one part is held at a time. Every part carries its SHA-256 (`x-amz-checksum-sha256`, which the server checks
on arrival) and its MD5 (`Content-MD5`, checked by every S3 server, and the ETag a server computes from the bytes
it stored). The whole archive's SHA-256 is computed over the same bytes and must equal the one the job recorded
before the upload is completed: a file that changed underneath never becomes an object.

The write is conditional (`If-None-Match: *`): a server that supports it refuses to complete it if the key exists
(`KeyExists`). A server that answers NotImplemented is written to without the condition after a fresh existence
check (`exists`), and remembered as such. A failed or cancelled multipart upload is aborted on the way out; one
left by a killed daemon is aborted by the next store of the same key (`abort_uploads_of`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from archived.errors import IntegrityError
from archived_s3.checksums import UploadDigests, b64
from archived_s3.connection import S3Connection, version_of
from archived_s3.errors import S3Failure, S3Unavailable

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MAX_PARTS = 10_000  # S3's limit per multipart upload
ABORT_TIMEOUT_SECONDS = 30.0


class KeyExists(Exception):
    """The conditional write found an object at the key (a signal to the driver, never raised to the engine)."""


@dataclass
class Written:
    """What an upload wrote: the version it created and the digests of the bytes it sent."""

    version_id: str | None
    digests: UploadDigests
    etags_confirmed: bool  # every ETag the server answered equals the MD5 of what we sent


@dataclass
class ConditionalWrites:
    """Whether the server honours `If-None-Match: *` (None: not known yet)."""

    supported: bool | None = None


def part_size_for(size: int, configured: int) -> int:
    """The configured part size, or a larger one (whole MiB) if the archive would need over 10,000 parts."""
    if math.ceil(size / configured) <= MAX_PARTS:
        return configured
    return math.ceil(size / MAX_PARTS / MIB) * MIB


class Upload:
    """One archive going to one key; `write` returns what was written or raises `KeyExists`."""

    def __init__(
        self,
        conn: S3Connection,
        key: str,
        source: Path,
        *,
        sha256: str,
        size: int,
        parameters: dict[str, Any],
        conditional: ConditionalWrites,
        exists: Callable[[], Awaitable[bool]],
    ) -> None:
        self.conn = conn
        self.key = key
        self.source = source
        self.sha256 = sha256
        self.size = size
        self.parameters = parameters  # metadata, content type, Object Lock, encryption
        self.conditional = conditional
        self.exists = exists
        self.legacy = conn.config.legacy_checksums
        self.part_size = part_size_for(size, conn.config.part_size)
        self.digests = UploadDigests()
        self.etags_confirmed = conn.config.sse != "aws:kms"  # SSE-KMS ETags are no MD5

    async def write(self) -> Written:
        """Upload the file (see the module docstring)."""
        handle = await asyncio.to_thread(self.source.open, "rb")
        try:
            if self.size <= self.part_size:
                version = await self._put(handle)
            else:
                version = await self._multipart(handle)
        finally:
            handle.close()
        return Written(version, self.digests, self.etags_confirmed)

    # -- single PUT -----------------------------------------------------------------------------------------

    async def _put(self, handle: IO[bytes]) -> str | None:
        data = await asyncio.to_thread(handle.read, self.part_size + 1)
        part = await asyncio.to_thread(self.digests.add, data)
        self._check_source()
        params = {**self.parameters, **self._checksum_headers(part.sha256, part.md5)}
        answer = await self._conditionally(
            lambda condition: self.conn.call(
                "put_object", f"writing {self.key}", Key=self.key, Body=data, ContentLength=len(data),
                **params, **condition,
            )
        )  # fmt: skip
        self._check_answer(answer, 1, part.sha256, part.md5)
        return version_of(answer).get("VersionId")

    # -- multipart ------------------------------------------------------------------------------------------

    async def _multipart(self, handle: IO[bytes]) -> str | None:
        create = {**self.parameters}
        if not self.legacy:
            create["ChecksumAlgorithm"] = "SHA256"
        answer = await self.conn.call(
            "create_multipart_upload", f"starting the upload of {self.key}", Key=self.key, **create
        )
        upload_id = answer["UploadId"]
        try:
            parts = await self._send_parts(handle, upload_id)
            self._check_source()
            completed = await self._conditionally(
                lambda condition: self.conn.call(
                    "complete_multipart_upload", f"completing the upload of {self.key}", Key=self.key,
                    UploadId=upload_id, MultipartUpload={"Parts": parts}, **condition,
                )
            )  # fmt: skip
        except BaseException:
            await abort_quietly(self.conn, self.key, upload_id)
            raise
        return version_of(completed).get("VersionId")

    async def _send_parts(self, handle: IO[bytes], upload_id: str) -> list[dict[str, Any]]:
        parts = []
        number = 0
        while data := await asyncio.to_thread(handle.read, self.part_size):
            number += 1
            part = await asyncio.to_thread(self.digests.add, data)
            answer = await self.conn.call(
                "upload_part", f"writing part {number} of {self.key}", Key=self.key, UploadId=upload_id,
                PartNumber=number, Body=data, ContentLength=len(data), **self._checksum_headers(part.sha256, part.md5),
            )  # fmt: skip
            del data  # one part in memory at a time
            self._check_answer(answer, number, part.sha256, part.md5)
            entry = {"PartNumber": number, "ETag": answer["ETag"]}
            if not self.legacy:
                entry["ChecksumSHA256"] = b64(part.sha256)
            parts.append(entry)
        return parts

    # -- shared ---------------------------------------------------------------------------------------------

    def _checksum_headers(self, sha256: bytes, md5: bytes) -> dict[str, Any]:
        headers: dict[str, Any] = {"ContentMD5": b64(md5)}
        if not self.legacy:
            headers |= {"ChecksumAlgorithm": "SHA256", "ChecksumSHA256": b64(sha256)}
        return headers

    def _check_source(self) -> None:
        """The bytes read must be the archive the job recorded, or nothing is completed."""
        if (self.digests.size, self.digests.whole.hexdigest()) != (self.size, self.sha256):
            raise IntegrityError(
                f"storage target {self.conn.context.target}: {self.source.name} read as {self.digests.size} bytes "
                f"sha256 {self.digests.whole.hexdigest()[:12]}… while uploading, expected {self.size} bytes "
                f"sha256 {self.sha256[:12]}…; nothing was stored under {self.key}"
            )

    def _check_answer(self, answer: dict[str, Any], number: int, sha256: bytes, md5: bytes) -> None:
        echoed = answer.get("ChecksumSHA256")
        if echoed and echoed.partition("-")[0] != b64(sha256):
            # The server hashed other bytes than we sent: the network altered them. Retrying sends them again.
            raise S3Unavailable(
                f"storage target {self.conn.context.target}: part {number} of {self.key} arrived altered "
                "(the server's SHA-256 differs from ours); will be retried"
            )
        etag = str(answer.get("ETag", "")).strip('"')
        if len(etag) == 32 and etag != md5.hex():
            # An ETag of 32 hex digits is the MD5 of what the server stored, on most servers (not with SSE-KMS, and
            # not on every S3-compatible one): a mismatch is a reason to read the object back after completion.
            self.etags_confirmed = False

    async def _conditionally(self, send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """Send with `If-None-Match: *` unless the server is known not to support it."""
        if self.conditional.supported is not False:
            try:
                answer = await send({"IfNoneMatch": "*"})
            except S3Failure as exc:
                if exc.status == 412 or exc.s3_code == "PreconditionFailed":
                    raise KeyExists(self.key) from None
                if exc.s3_code != "NotImplemented" and exc.status != 501:
                    raise
                self.conditional.supported = False
                log.warning(
                    "storage target %s: the server does not support conditional writes (If-None-Match); "
                    "checking for an existing object before each write instead",
                    self.conn.context.target,
                )
            else:
                self.conditional.supported = True
                return answer
        if await self.exists():
            raise KeyExists(self.key)
        return await send({})


async def abort_quietly(conn: S3Connection, key: str, upload_id: str) -> None:
    """Abort a multipart upload, even while the task is being cancelled; a failure leaves it to the next store."""
    try:
        await asyncio.wait_for(
            asyncio.shield(
                conn.call("abort_multipart_upload", f"aborting an upload of {key}", Key=key, UploadId=upload_id)
            ),
            ABORT_TIMEOUT_SECONDS,
        )
    except (Exception, asyncio.CancelledError) as exc:
        if isinstance(exc, S3Failure) and exc.s3_code == "NoSuchUpload":
            return
        log.warning(
            "storage target %s: could not abort an upload of %s (%s); the next store of it aborts it",
            conn.context.target, key, exc,
        )  # fmt: skip


async def abort_uploads_of(conn: S3Connection, key: str) -> int:
    """Abort every unfinished multipart upload of exactly `key` (left by a killed daemon); how many."""
    aborted = 0
    for upload in await list_uploads(conn, key):
        if upload["Key"] == key:
            with contextlib.suppress(S3Failure):
                await conn.call(
                    "abort_multipart_upload", f"aborting an earlier upload of {key}", Key=key,
                    UploadId=upload["UploadId"],
                )  # fmt: skip
                aborted += 1
    return aborted


async def abort_stale_uploads(conn: S3Connection, prefix: str, older_than: timedelta) -> int:
    """Abort unfinished uploads under `prefix` started before `older_than` ago (jobs that never came back)."""
    cutoff = datetime.now(UTC) - older_than
    aborted = 0
    for upload in await list_uploads(conn, prefix):
        initiated = upload.get("Initiated")
        if isinstance(initiated, datetime) and initiated.astimezone(UTC) < cutoff:
            with contextlib.suppress(S3Failure):
                await conn.call(
                    "abort_multipart_upload", f"aborting a stale upload of {upload['Key']}", Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )  # fmt: skip
                aborted += 1
    return aborted


async def list_uploads(conn: S3Connection, prefix: str) -> list[dict[str, Any]]:
    """Every unfinished multipart upload whose key starts with `prefix`."""
    uploads: list[dict[str, Any]] = []
    markers: dict[str, str] = {}
    while True:
        page = await conn.call(
            "list_multipart_uploads", f"listing unfinished uploads under {prefix!r}", Prefix=prefix, **markers
        )
        uploads += page.get("Uploads", [])
        if not page.get("IsTruncated"):
            return uploads
        markers = {"KeyMarker": page.get("NextKeyMarker", ""), "UploadIdMarker": page.get("NextUploadIdMarker", "")}
