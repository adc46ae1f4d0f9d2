"""The client's half of `archives.get` and `archives.read`: the chunks of an archive the daemon verified, written to a
new file by the client as its own user, checked against the SHA-256 the store recorded, never over an existing file.

The daemon does not write into the caller's folders: it may run as another user on the same machine, and a path it
opened on a caller's behalf would let any caller write wherever the daemon may. The bytes travel over the socket.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel

from archived.protocol.archives import ArchiveTransfer, ReadArchiveParams
from archived.protocol.methods import ARCHIVES_READ, MethodSpec

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class Requester(Protocol):
    """Anything that sends a typed request to the daemon (the socket client)."""

    async def request(self, spec: MethodSpec[P, R], params: P) -> R: ...


class DownloadRefused(Exception):
    """The archive was not written: the destination exists or cannot be written, or the bytes did not check out."""


def destination(path: Path, name: str) -> Path:
    """Where the archive goes: into `path` when it is a folder, else `path` itself."""
    return path / name if path.is_dir() else path


def check_destination(dest: Path) -> None:
    """Refuse a destination that exists or whose folder this user cannot write to (before anything is fetched)."""
    if dest.exists() or dest.is_symlink():
        raise DownloadRefused(f"{dest} exists; archives are never written over a file: choose another path")
    folder = dest.parent
    if not folder.is_dir():
        raise DownloadRefused(f"{folder} is not a folder; create it first or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DownloadRefused(f"{folder} is not writable by this user; choose another path")


async def download_archive(
    client: Requester,
    transfer: ArchiveTransfer,
    dest: Path,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Read every chunk of `transfer` into `dest` (a new file); the size and SHA-256 must be the recorded ones."""
    check_destination(dest)
    fd, temporary = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.sha256()
        offset = 0
        with os.fdopen(fd, "wb") as out:
            while True:
                params = ReadArchiveParams(transfer_id=transfer.transfer_id, offset=offset, length=transfer.chunk_bytes)
                chunk = await client.request(ARCHIVES_READ, params)
                try:
                    data = base64.b64decode(chunk.data, validate=True)
                except binascii.Error:
                    raise DownloadRefused(f"the daemon sent a chunk at {offset} that is not base64") from None
                if chunk.offset != offset or offset + len(data) > transfer.size:
                    raise DownloadRefused(f"the daemon sent bytes {chunk.offset}+{len(data)}, expected from {offset}")
                out.write(data)
                digest.update(data)
                offset += len(data)
                if on_progress is not None:
                    on_progress(offset, transfer.size)
                if chunk.eof:
                    break
                if not data:
                    raise DownloadRefused(f"the daemon sent an empty chunk at {offset} of {transfer.size} bytes")
            out.flush()
            os.fsync(out.fileno())
        if offset != transfer.size or digest.hexdigest() != transfer.sha256:
            raise DownloadRefused(
                f"{transfer.name} arrived with {offset} bytes, sha256 {digest.hexdigest()}; the store recorded "
                f"{transfer.size} bytes, sha256 {transfer.sha256} (nothing was written to {dest})"
            )
        _link_new(Path(temporary), dest)
        return dest
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _link_new(source: Path, dest: Path) -> None:
    """Give `source` the name `dest` unless `dest` exists (a link cannot replace a file; a rename could)."""
    try:
        os.link(source, dest)
    except FileExistsError:
        raise DownloadRefused(f"{dest} appeared while the archive was read; it was left as it is") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if dest.exists():  # a file system without hard links: check, then rename (a small window, not none)
            raise DownloadRefused(f"{dest} appeared while the archive was read; it was left as it is") from None
        os.rename(source, dest)
