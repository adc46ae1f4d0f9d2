"""The `archives.*` methods: stored archives listed by course, activity and target; one fetched from a target that
holds it, verified, and handed over in chunks to the connection that asked (`archived.protocol.archives`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from archived.jobs.archive_retrieval import retrieve_verified
from archived.jobs.copy_catchup import CopyCatchUp
from archived.protocol.archives import (
    TRANSFER_IDLE_SECONDS,
    ArchiveChunk,
    ArchivePage,
    ArchiveSummary,
    ArchiveTransfer,
    GetArchiveParams,
    ListArchivesParams,
    ReadArchiveParams,
    RefusedCopy,
)
from archived.protocol.copies import PendingCopy
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import ARCHIVES_GET, ARCHIVES_LIST, ARCHIVES_READ
from archived.rpc.connection import Connection
from archived.rpc.method import Call, Method, method, method_with_call
from archived.store.archives import ArchiveIndex
from archived.store.jobs import JobStore
from archived.store.records import Artifact
from archived.targets import StorageTarget


@dataclass
class Transfer:
    """A verified archive in the daemon's transfer folder, waiting for the connection that asked for it."""

    id: str
    connection: Connection
    path: Path
    size: int
    last_read: float = field(default_factory=time.monotonic)
    timer: asyncio.TimerHandle | None = None  # the next look at whether it is still wanted


class ArchiveTransfers:
    """The open transfers: one per connection (a new `archives.get` ends the previous one), each ending at its last
    chunk, when its connection closed, or after `TRANSFER_IDLE_SECONDS` without a read."""

    def __init__(self, folder: Path, *, idle_seconds: float = TRANSFER_IDLE_SECONDS) -> None:
        self.folder = folder
        self.idle_seconds = idle_seconds
        self._open: dict[str, Transfer] = {}

    async def start(self) -> None:
        """An empty folder only the daemon's user can enter (leftovers of a stopped daemon are removed)."""
        await asyncio.to_thread(shutil.rmtree, self.folder, True)
        await asyncio.to_thread(self.folder.mkdir, mode=0o700, parents=True)

    async def close(self) -> None:
        """End every transfer."""
        for transfer in list(self._open.values()):
            self._end(transfer)
        await asyncio.to_thread(shutil.rmtree, self.folder, True)

    def open(self, connection: Connection, path: Path, size: int) -> Transfer:
        """Hand `path` (in `folder`) over to `connection`."""
        self.prune()
        for transfer in [t for t in self._open.values() if t.connection is connection]:
            self._end(transfer)
        transfer = Transfer(uuid.uuid4().hex, connection, path, size)
        self._open[transfer.id] = transfer
        self._look_later(transfer)
        return transfer

    def _look_later(self, transfer: Transfer) -> None:
        """End the transfer once it is idle even if no other call comes (its file may be gigabytes)."""
        delay = max(0.1, transfer.last_read + self.idle_seconds - time.monotonic() + 0.1)
        transfer.timer = asyncio.get_running_loop().call_later(delay, self._look, transfer.id)

    def _look(self, transfer_id: str) -> None:
        self.prune()
        transfer = self._open.get(transfer_id)
        if transfer is not None:
            self._look_later(transfer)

    async def read(self, connection: Connection, transfer_id: str, offset: int, length: int) -> ArchiveChunk:
        """Bytes of a transfer of this connection; the last chunk ends it."""
        self.prune()
        transfer = self._open.get(transfer_id)
        if transfer is None or transfer.connection is not connection:
            raise RpcError(
                ErrorCode.NOT_FOUND,
                f"no open transfer {transfer_id!r} on this connection (archives.get opens one; it ends at its last "
                f"chunk or after {self.idle_seconds:g} s without a read)",
            )
        if offset > transfer.size:
            raise RpcError(ErrorCode.INVALID_PARAMS, f"offset {offset} is past the archive's {transfer.size} bytes")
        transfer.last_read = time.monotonic()
        data = await asyncio.to_thread(_read_at, transfer.path, offset, length)
        eof = offset + len(data) >= transfer.size
        if eof:
            self._end(transfer)
        return ArchiveChunk(offset=offset, data=base64.b64encode(data).decode("ascii"), eof=eof)

    def prune(self) -> None:
        """End the transfers whose connection closed or that sat idle too long."""
        now = time.monotonic()
        for transfer in list(self._open.values()):
            if transfer.connection.closed or now - transfer.last_read > self.idle_seconds:
                self._end(transfer)

    def _end(self, transfer: Transfer) -> None:
        self._open.pop(transfer.id, None)
        if transfer.timer is not None:
            transfer.timer.cancel()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(transfer.path)


def _read_at(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


async def archives_list(params: ListArchivesParams, *, index: ArchiveIndex, copies: CopyCatchUp) -> ArchivePage:
    """A page of stored archives, newest first, with their copies and the copies still pending."""
    listed, total = await index.page(
        course_id=params.course_id, cmid=params.cmid, target=params.target, limit=params.limit, offset=params.offset
    )
    pending: dict[int, list[PendingCopy]] = defaultdict(list)
    for record in await copies.pending.of_jobs({item.artifact.job_id for item in listed}):
        pending[record.artifact_id].append(record.to_wire())
    archives = []
    for item in listed:
        wire = item.artifact.to_wire()
        archives.append(
            ArchiveSummary(
                name=wire.name, job_id=item.artifact.job_id, size=wire.size, sha256=wire.sha256,
                course_id=item.course_id, cmid=item.cmid, course_name=item.course_name,
                activity_name=item.activity_name, created_at=wire.created_at, retain_until=wire.retain_until,
                copies=wire.locations, pending=pending[item.artifact.id],
            )
        )  # fmt: skip
    return ArchivePage(archives=archives, total=total, offset=params.offset)


async def find_archive(ident: str, *, index: ArchiveIndex) -> Artifact:
    """The archive called `ident`, or the archive of the job `ident` (an id or a unique prefix)."""
    named = await index.by_name(ident)
    if len(named) > 1:
        jobs = ", ".join(artifact.job_id for artifact in named)
        raise RpcError(ErrorCode.INVALID_PARAMS, f"{len(named)} archives are called {ident}; name the job instead "
                       f"(jobs {jobs})")  # fmt: skip
    if named:
        return named[0]
    by_job = await index.of_jobs_like(ident)
    if not by_job:
        raise RpcError(ErrorCode.NOT_FOUND, f"no stored archive is called {ident!r}, and no job whose archive is "
                       "stored has that id (archived archives list shows them)")  # fmt: skip
    if len({artifact.job_id for artifact in by_job}) > 1:
        raise RpcError(ErrorCode.INVALID_PARAMS, f"{ident!r} is the start of several jobs' ids; give more of it")
    if len(by_job) > 1:
        names = ", ".join(artifact.name for artifact in by_job)
        raise RpcError(ErrorCode.INVALID_PARAMS, f"job {by_job[0].job_id} has several archives ({names}); name one")
    return by_job[0]


async def archives_get(
    params: GetArchiveParams,
    call: Call,
    *,
    index: ArchiveIndex,
    targets: dict[str, StorageTarget],
    transfers: ArchiveTransfers,
) -> ArchiveTransfer:
    """Fetch an archive from a target that holds it, verify it, and open a transfer of it for this connection."""
    if params.from_target is not None and params.from_target not in targets:
        raise RpcError(ErrorCode.NOT_FOUND, f"no storage target named {params.from_target!r} "
                       f"(configured: {', '.join(sorted(targets)) or 'none'})")  # fmt: skip
    artifact = await find_archive(params.archive, index=index)
    retrieved = await retrieve_verified(artifact, targets, transfers.folder, only=params.from_target)
    transfer = transfers.open(call.connection, retrieved.path, artifact.size)
    return ArchiveTransfer(
        transfer_id=transfer.id, job_id=artifact.job_id, name=artifact.name, size=artifact.size,
        sha256=artifact.sha256, target=retrieved.target, location=retrieved.location, checks=retrieved.checks,
        refused=[RefusedCopy(target=r.target, reason=r.reason) for r in retrieved.refused],
    )  # fmt: skip


async def archives_read(params: ReadArchiveParams, call: Call, *, transfers: ArchiveTransfers) -> ArchiveChunk:
    """A chunk of an open transfer."""
    return await transfers.read(call.connection, params.transfer_id, params.offset, params.length)


def archive_methods(
    *, store: JobStore, targets: dict[str, StorageTarget], copies: CopyCatchUp, transfers: ArchiveTransfers
) -> list[Method[Any, Any]]:
    """The `archives.*` methods, bound to the store, the storage targets and the transfer folder."""
    index = ArchiveIndex(store.db)
    return [
        method(ARCHIVES_LIST, partial(archives_list, index=index, copies=copies)),
        method_with_call(ARCHIVES_GET, partial(archives_get, index=index, targets=targets, transfers=transfers)),
        method_with_call(ARCHIVES_READ, partial(archives_read, transfers=transfers)),
    ]
