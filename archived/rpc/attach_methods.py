"""The `jobs.attach*` methods: files an operator adds to a job before it is packed, received in chunks over the
connection that opened the upload (`archived.protocol.attachments`), checked, then handed to the job's operator files.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from archived.jobs.operator_files import AttachRefused, OperatorFileRecord, OperatorFiles
from archived.protocol.attachments import (
    ATTACH_IDLE_SECONDS,
    ATTACHABLE_STATES,
    AttachParams,
    AttachUpload,
    AttachWriteParams,
    AttachWriteResult,
    OperatorFile,
)
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import JOBS_ATTACH, JOBS_ATTACH_WRITE
from archived.rpc.connection import Connection
from archived.rpc.job_methods import JobLookup
from archived.rpc.method import Call, Method, method_with_call
from archived.store.records import Initiator

# The states in which a job has not begun packing: it may still take files.
OPEN_STATES = ATTACHABLE_STATES


@dataclass
class Upload:
    """One file on its way in: written to the uploads folder as it arrives, hashed as it goes."""

    id: str
    connection: Connection
    job_id: str
    name: str
    size: int
    sha256: str
    note: str
    by: Initiator
    path: Path
    handle: BinaryIO
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    last_write: float = field(default_factory=time.monotonic)


class Uploads:
    """The open uploads: one per connection (a new `jobs.attach` drops the previous one), each ending with its last
    chunk, when its connection closed, or after `ATTACH_IDLE_SECONDS` without a chunk."""

    def __init__(
        self, folder: Path, files: OperatorFiles, jobs: JobLookup, *, idle_seconds: float = ATTACH_IDLE_SECONDS
    ) -> None:
        self.folder = folder
        self.files = files
        self.jobs = jobs
        self.idle_seconds = idle_seconds
        self._open: dict[str, Upload] = {}

    async def start(self) -> None:
        """An empty folder only the daemon's user can enter (leftovers of a stopped daemon are removed)."""
        await asyncio.to_thread(shutil.rmtree, self.folder, True)
        await asyncio.to_thread(self.folder.mkdir, mode=0o700, parents=True)

    async def close(self) -> None:
        """Drop every upload."""
        for upload in list(self._open.values()):
            self._drop(upload)
        await asyncio.to_thread(shutil.rmtree, self.folder, True)

    def open(self, connection: Connection, params: AttachParams, job_id: str, by: Initiator) -> Upload:
        """A new upload for `connection`."""
        self.prune()
        for upload in [u for u in self._open.values() if u.connection is connection]:
            self._drop(upload)
        upload_id = uuid.uuid4().hex
        path = self.folder / f"{upload_id}.part"
        handle = path.open("xb")
        upload = Upload(upload_id, connection, job_id, params.name, params.size, params.sha256, params.note, by, path,
                        handle)  # fmt: skip
        self._open[upload_id] = upload
        return upload

    def get(self, connection: Connection, upload_id: str) -> Upload:
        """An open upload of this connection."""
        self.prune()
        upload = self._open.get(upload_id)
        if upload is None or upload.connection is not connection:
            raise RpcError(
                ErrorCode.NOT_FOUND,
                f"no open upload {upload_id!r} on this connection (jobs.attach opens one; it ends with its last "
                f"chunk or after {self.idle_seconds:g} s without one)",
            )
        return upload

    async def write(self, upload: Upload, offset: int, data: bytes) -> OperatorFileRecord | None:
        """Append a chunk; with the last one, check the file and add it to its job."""
        if offset != upload.received:
            raise RpcError(ErrorCode.INVALID_PARAMS, f"expected the chunk at offset {upload.received}, got {offset}")
        if upload.received + len(data) > upload.size:
            self._drop(upload)
            raise RpcError(ErrorCode.INVALID_PARAMS, f"more bytes than the {upload.size} announced; upload dropped")
        await asyncio.to_thread(upload.handle.write, data)
        upload.digest.update(data)
        upload.received += len(data)
        upload.last_write = time.monotonic()
        if upload.received < upload.size:
            return None
        return await self.finish(upload)

    async def finish(self, upload: Upload) -> OperatorFileRecord:
        """Check the complete file against its announced SHA-256 and add it to the job."""
        self._open.pop(upload.id, None)
        try:
            await asyncio.to_thread(_close_synced, upload.handle)
            if upload.digest.hexdigest() != upload.sha256:
                raise RpcError(
                    ErrorCode.INVALID_PARAMS,
                    f"{upload.name}: the bytes received have SHA-256 {upload.digest.hexdigest()}, not the "
                    f"{upload.sha256} announced; nothing was added",
                )
            await require_open(self.jobs, upload.job_id)  # it may have moved on while the bytes came
            try:
                return await self.files.add(upload.job_id, upload.path, name=upload.name, note=upload.note,
                                            by=upload.by)  # fmt: skip
            except AttachRefused as exc:
                raise RpcError(ErrorCode.INVALID_STATE, str(exc)) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(upload.path)

    def prune(self) -> None:
        """Drop the uploads whose connection closed or that sat idle too long."""
        now = time.monotonic()
        for upload in list(self._open.values()):
            if upload.connection.closed or now - upload.last_write > self.idle_seconds:
                self._drop(upload)

    def _drop(self, upload: Upload) -> None:
        self._open.pop(upload.id, None)
        upload.handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(upload.path)


def _close_synced(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def operator_file(job_id: str, record: OperatorFileRecord) -> OperatorFile:
    """The wire form of an added file."""
    by = Initiator.from_dict(record.added_by)
    return OperatorFile(
        job_id=job_id, name=record.name, path=record.path, size=record.size, sha256=record.sha256, note=record.note,
        added_by=str(by), added_at=datetime.fromisoformat(record.added_at.replace("Z", "+00:00")),
    )  # fmt: skip


async def require_open(jobs: JobLookup, job_id: str) -> None:
    """Refuse a job that has begun packing (or ended)."""
    job = await jobs.get_job(job_id)
    if job.state not in OPEN_STATES:
        raise RpcError(
            ErrorCode.INVALID_STATE,
            f"job {job_id} is {job.state.value}: files can be added only before it is packed (queued or archiving "
            "its activity)",
        )


async def jobs_attach(params: AttachParams, call: Call, *, jobs: JobLookup, uploads: Uploads) -> AttachUpload:
    """Open an upload of one file for a job that has not begun packing."""
    job_id = await jobs.resolve_job_id(params.job_id)
    await require_open(jobs, job_id)
    upload = uploads.open(call.connection, params, job_id, call.initiator)
    if params.size == 0:
        record = await uploads.finish(upload)
        return AttachUpload(upload_id=upload.id, job_id=job_id, file=operator_file(job_id, record))
    return AttachUpload(upload_id=upload.id, job_id=job_id)


async def jobs_attach_write(params: AttachWriteParams, call: Call, *, uploads: Uploads) -> AttachWriteResult:
    """The next chunk of an upload of this connection."""
    upload = uploads.get(call.connection, params.upload_id)
    try:
        data = base64.b64decode(params.data, validate=True)
    except (binascii.Error, ValueError):
        raise RpcError(ErrorCode.INVALID_PARAMS, "data is not valid base64") from None
    record = await uploads.write(upload, params.offset, data)
    file = operator_file(upload.job_id, record) if record is not None else None
    return AttachWriteResult(received=upload.received, file=file)


def attach_methods(*, uploads: Uploads) -> list[Method[Any, Any]]:
    """The `jobs.attach*` methods, bound to the open uploads (and through them the engine's job states)."""
    return [
        method_with_call(JOBS_ATTACH, partial(jobs_attach, jobs=uploads.jobs, uploads=uploads)),
        method_with_call(JOBS_ATTACH_WRITE, partial(jobs_attach_write, uploads=uploads)),
    ]
