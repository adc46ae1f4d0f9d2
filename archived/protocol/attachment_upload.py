"""The client side of `jobs.attach`: a local file's size and SHA-256, and sending its bytes chunk by chunk.

Shared by `archived jobs attach` and the TUI's attach dialog; both send over their one connection (an upload belongs
to the connection that opened it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

from archived.protocol import methods as rpc
from archived.protocol.archive_download import Requester
from archived.protocol.attachments import AttachParams, AttachWriteParams, OperatorFile


class FileShrank(Exception):
    """The file ended before the size announced in `jobs.attach`: the daemon adds nothing."""


def size_and_sha256(path: Path) -> tuple[int, str]:
    """The file's size and hex SHA-256, read in 1 MiB pieces (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


async def send_file(requests: Requester, params: AttachParams, path: Path) -> OperatorFile:
    """Open the upload `params` describes and send `path`'s bytes; the file as the job now holds it."""
    upload = await requests.request(rpc.JOBS_ATTACH, params)
    file = upload.file
    with path.open("rb") as handle:
        offset = 0
        while file is None:
            chunk = await asyncio.to_thread(handle.read, upload.chunk_bytes)
            if not chunk:
                raise FileShrank(f"{path}: the file shrank while it was sent; nothing was added")
            encoded = base64.b64encode(chunk).decode("ascii")
            write = AttachWriteParams(upload_id=upload.upload_id, offset=offset, data=encoded)
            written = await requests.request(rpc.JOBS_ATTACH_WRITE, write)
            offset, file = written.received, written.file
    return file
