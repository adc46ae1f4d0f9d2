"""Probes under the target's probe prefix: does the server check SHA-256 checksums, can we write, read, delete.

Both leave nothing behind, even on a bucket whose default retention locks every new object: the checksum probe is
an unfinished multipart upload that is aborted, and so is the write probe on such a bucket (a probe *object* there
could not be deleted until its retention ends). Elsewhere the write probe is a small object, read back and deleted
by its version.
"""

from __future__ import annotations

import hashlib
import uuid

from archived_s3.checksums import b64
from archived_s3.connection import S3Connection, version_of
from archived_s3.errors import S3Failure
from archived_s3.upload import abort_quietly

PROBE_FOLDER = ".archived-probe/"  # under the target's prefix; archive names never start with a dot

# What servers answer to a part whose SHA-256 header does not match its bytes.
CHECKSUM_REFUSALS = frozenset({"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidRequest"})


async def server_checks_sha256(conn: S3Connection, prefix: str) -> bool:
    """Send a part with a wrong SHA-256: a server that checks checksums refuses it."""
    key = f"{prefix}{PROBE_FOLDER}checksum-{uuid.uuid4().hex}"
    doing = "probing checksum verification"
    upload = await conn.call("create_multipart_upload", doing, Key=key, ChecksumAlgorithm="SHA256")
    try:
        await conn.call(
            "upload_part", doing, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"probe",
            ChecksumAlgorithm="SHA256", ChecksumSHA256=b64(hashlib.sha256(b"not the probe").digest()),
        )  # fmt: skip
    except S3Failure as exc:
        if exc.s3_code in CHECKSUM_REFUSALS or exc.status == 400:
            return True
        raise
    finally:
        await abort_quietly(conn, key, upload["UploadId"])
    return False


async def write_read_delete(conn: S3Connection, prefix: str, *, as_upload: bool) -> str:
    """Write a probe, read it back, delete it; returns what was done, raises `S3Failure` or `ValueError`."""
    token = uuid.uuid4().hex.encode()
    key = f"{prefix}{PROBE_FOLDER}probe-{uuid.uuid4().hex}"
    md5 = hashlib.md5(token, usedforsecurity=False).digest()
    if as_upload:
        upload = await conn.call("create_multipart_upload", "probing (write)", Key=key)
        try:
            await conn.call(
                "upload_part", "probing (write)", Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=token,
                ContentMD5=b64(md5),
            )  # fmt: skip
            parts = (await conn.call("list_parts", "probing (read)", Key=key, UploadId=upload["UploadId"]))["Parts"]
        finally:
            await abort_quietly(conn, key, upload["UploadId"])
        if [p.get("Size") for p in parts] != [len(token)]:
            raise ValueError("the probe part reads back with another size")
        return "probe write/read/delete ok (an aborted upload: the bucket's default retention would lock an object)"
    written = await conn.call("put_object", "probing (write)", Key=key, Body=token, ContentMD5=b64(md5))
    version = version_of(written)
    try:
        answer = await conn.call("get_object", "probing (read)", Key=key, **version)
        read = b"".join([chunk async for chunk in conn.stream(answer["Body"], "probing (read)")])
    finally:
        await conn.call("delete_object", "probing (delete)", Key=key, **version)
    if read != token:
        raise ValueError("the probe object reads back with other bytes")
    return "probe write/read/delete ok"
