"""The `archives.*` handlers in process (the engine of `tests/jobs`, its real local target, real socket pairs for the
connections): listing with filters, retrieval handed over in chunks to the connection that asked and to no other,
and the hostile cases of the new input path (unknown and foreign transfers, offsets past the end, ambiguous names)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from archived.protocol.archives import GetArchiveParams, ListArchivesParams, ReadArchiveParams
from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.archive_methods import ArchiveTransfers, archive_methods, archives_get, archives_list, archives_read
from archived.rpc.connection import Connection
from archived.rpc.method import Call
from archived.rpc.peer import peer_of
from archived.store.archives import ArchiveIndex
from tests.jobs.conftest import EngineHarness

MakeCall = Callable[[], Awaitable[Call]]


@pytest.fixture
async def calls() -> AsyncIterator[MakeCall]:
    """Calls on fresh connections (each a real socket pair), closed at the end."""
    writers: list[asyncio.StreamWriter] = []

    async def open_call() -> Call:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        _, client_writer = await asyncio.open_unix_connection(sock=theirs)
        writers.extend([writer, client_writer])
        peer = peer_of(ours)
        return Call(peer, Connection(reader, writer, peer, operator=True), may_mutate=True)

    yield open_call
    for writer in writers:
        writer.close()


@pytest.fixture
async def transfers(tmp_path: Path) -> AsyncIterator[ArchiveTransfers]:
    folder = ArchiveTransfers(tmp_path / "transfers")
    await folder.start()
    yield folder
    await folder.close()


async def completed_job(h: EngineHarness, **settings: object) -> str:
    job = await h.create(files=1, **settings)
    assert (await h.wait(job.id, {"completed", "failed"})).state.value == "completed"
    return job.id


async def read_all(transfers: ArchiveTransfers, call: Call, transfer_id: str, length: int) -> bytes:
    data, offset = b"", 0
    while True:
        chunk = await archives_read(ReadArchiveParams(transfer_id=transfer_id, offset=offset, length=length), call,
                                    transfers=transfers)  # fmt: skip
        data += base64.b64decode(chunk.data)
        offset += len(base64.b64decode(chunk.data))
        if chunk.eof:
            return data


async def test_archives_list_filters_and_shows_copies(harness: EngineHarness) -> None:
    h = harness
    job_id = await completed_job(h)
    index = ArchiveIndex(h.store.db)
    copies = h.engine.stages.copies

    async def listed(**filters: object) -> list[str]:
        page = await archives_list(ListArchivesParams(**filters), index=index, copies=copies)
        return [a.job_id for a in page.archives]

    page = await archives_list(ListArchivesParams(), index=index, copies=copies)
    [archive] = page.archives
    assert (archive.job_id, archive.course_id, archive.cmid, page.total) == (job_id, 2, 7, 1)
    assert [c.target for c in archive.copies] == ["local"] and archive.pending == []
    assert await listed(course_id=2) == await listed(cmid=7) == await listed(target="local") == [job_id]
    assert await listed(course_id=3) == await listed(cmid=8) == await listed(target="worm") == []


async def test_a_transfer_is_read_in_chunks_by_its_own_connection_only(
    harness: EngineHarness, calls: MakeCall, transfers: ArchiveTransfers
) -> None:
    h = harness
    job_id = await completed_job(h)
    index = ArchiveIndex(h.store.db)
    mine, theirs = await calls(), await calls()
    transfer = await archives_get(GetArchiveParams(archive=job_id[:6]), mine, index=index, targets=h.engine.targets,
                                  transfers=transfers)  # fmt: skip
    assert transfer.job_id == job_id and transfer.target == "local" and transfer.refused == []

    with pytest.raises(RpcError) as foreign:
        await archives_read(ReadArchiveParams(transfer_id=transfer.transfer_id, offset=0), theirs, transfers=transfers)
    assert foreign.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(RpcError) as past:
        params = ReadArchiveParams(transfer_id=transfer.transfer_id, offset=transfer.size + 1)
        await archives_read(params, mine, transfers=transfers)
    assert past.value.code == ErrorCode.INVALID_PARAMS

    data = await read_all(transfers, mine, transfer.transfer_id, length=1000)  # several chunks
    assert len(data) == transfer.size and hashlib.sha256(data).hexdigest() == transfer.sha256
    assert list(transfers.folder.iterdir()) == []  # the last chunk ended the transfer and removed its file
    with pytest.raises(RpcError) as ended:
        await archives_read(ReadArchiveParams(transfer_id=transfer.transfer_id, offset=0), mine, transfers=transfers)
    assert ended.value.code == ErrorCode.NOT_FOUND


async def test_a_closed_connection_or_a_new_get_ends_the_transfer(
    harness: EngineHarness, calls: MakeCall, transfers: ArchiveTransfers
) -> None:
    h = harness
    job_id = await completed_job(h)
    index = ArchiveIndex(h.store.db)
    call = await calls()
    get = GetArchiveParams(archive=job_id)
    first = await archives_get(get, call, index=index, targets=h.engine.targets, transfers=transfers)
    second = await archives_get(get, call, index=index, targets=h.engine.targets, transfers=transfers)
    assert len(list(transfers.folder.iterdir())) == 1  # one transfer per connection: the first one ended
    with pytest.raises(RpcError):
        await archives_read(ReadArchiveParams(transfer_id=first.transfer_id, offset=0), call, transfers=transfers)
    call.connection.closed = True
    transfers.prune()
    assert list(transfers.folder.iterdir()) == []
    with pytest.raises(RpcError):
        await archives_read(ReadArchiveParams(transfer_id=second.transfer_id, offset=0), call, transfers=transfers)


async def test_a_transfer_nobody_reads_ends_on_its_own(harness: EngineHarness, calls: MakeCall, tmp_path: Path) -> None:
    h = harness
    job_id = await completed_job(h)
    transfers = ArchiveTransfers(tmp_path / "idle", idle_seconds=0.2)
    await transfers.start()
    call = await calls()
    await archives_get(GetArchiveParams(archive=job_id), call, index=ArchiveIndex(h.store.db), targets=h.engine.targets,
                       transfers=transfers)  # fmt: skip
    assert len(list(transfers.folder.iterdir())) == 1
    deadline = asyncio.get_running_loop().time() + 30
    while list(transfers.folder.iterdir()):  # no other call comes: the transfer's own timer ends it
        assert asyncio.get_running_loop().time() < deadline, "the idle transfer was never ended"
        await asyncio.sleep(0.05)
    await transfers.close()


async def test_unknown_archives_targets_and_ambiguous_names_are_refused_clearly(
    harness: EngineHarness, calls: MakeCall, transfers: ArchiveTransfers
) -> None:
    h = harness
    job_id = await completed_job(h)
    index = ArchiveIndex(h.store.db)
    call = await calls()

    async def refused(**params: object) -> RpcError:
        with pytest.raises(RpcError) as error:
            await archives_get(GetArchiveParams(**params), call, index=index, targets=h.engine.targets,
                               transfers=transfers)  # fmt: skip
        return error.value

    error = await refused(archive="no-such-archive.zip")
    assert error.code == ErrorCode.NOT_FOUND and "archived archives list" in error.message
    assert (await refused(archive="abc")).code == ErrorCode.NOT_FOUND  # a prefix shorter than 4 matches nothing
    assert (await refused(archive="%%%%")).code == ErrorCode.NOT_FOUND  # LIKE wildcards are plain characters
    error = await refused(archive=job_id, from_target="worm")
    assert error.code == ErrorCode.NOT_FOUND and "worm" in error.message and "local" in error.message
    assert list(transfers.folder.iterdir()) == []


def test_the_archive_methods_are_operator_only_where_they_hand_out_the_archive(harness: EngineHarness) -> None:
    methods = {m.name: m.spec for m in archive_methods(store=harness.store, targets=harness.engine.targets,
                                                       copies=harness.engine.stages.copies,
                                                       transfers=ArchiveTransfers(Path("unused")))}  # fmt: skip
    assert {name: spec.mutating for name, spec in methods.items()} == {
        "archives.list": False,
        "archives.get": True,
        "archives.read": True,
    }
