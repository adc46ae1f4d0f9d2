"""Connection limits of the control socket against a real daemon: idle readers cannot lock operators out, exhaust
the daemon's file descriptors or flood its log; silent and idle connections are closed, subscribers never."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.client import RpcClient
from tests.rpc.test_protocol import RawConnection
from tests.support.jobs import create_job, wait_for_state
from tests.support.socket_abuse import IdleConnections, LimitedDaemon, needs_root

HARD_NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]


@pytest.fixture
def limited_daemon(tmp_path: Path) -> Iterator:
    """Start a daemon under an open-file limit with its socket open to the reader's group."""
    started: list[LimitedDaemon] = []

    def start(nofile: tuple[int, int] | None = None, **overrides: object) -> LimitedDaemon:
        process = LimitedDaemon(tmp_path, nofile, **overrides)
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()


async def operator_still_served(daemon: LimitedDaemon) -> dict:
    """The operator (the test's own user) gets in, sees the status and runs a job to completion."""

    async def serve() -> dict:
        async with daemon.client() as client:
            assert client.server_info["peer"]["operator"] is True
            status = await client.call("daemon.status")
            job = await wait_for_state(client, await create_job(client, files=5), {"completed", "failed"})
            assert job["state"] == "completed", job
            return status

    return await asyncio.wait_for(serve(), 60)  # on a locked-out daemon this would hang


def log_lines(daemon: LimitedDaemon) -> list[str]:
    return daemon.log().splitlines()


@needs_root
async def test_idle_readers_past_the_soft_file_limit_cannot_lock_out_operators(limited_daemon) -> None:
    # systemd's default: a soft limit of 1024 open files (here 400) under a far higher hard limit.
    daemon = limited_daemon(nofile=(400, HARD_NOFILE))
    readers = IdleConnections(daemon.socket, 500)
    try:
        await readers.opened()
        assert readers.unanswered == 0, "a connection was neither served nor refused (the daemon is stuck)"
        assert readers.refused, "every one of 500 idle connections of one reader was accepted"
        for error in readers.refused:
            assert error["code"] == ErrorCode.TOO_MANY_CONNECTIONS
            assert "daemon.max_connections_per_user" in error["message"]
        status = await operator_still_served(daemon)
        limits = status["connection_limits"]
        assert readers.held <= limits["max_connections_per_user"]
        assert limits["open_files_limit"] == HARD_NOFILE  # the soft limit was raised to the hard one
    finally:
        readers.close()
    assert len(log_lines(daemon)) < 100, "\n".join(log_lines(daemon)[-20:])


@needs_root
async def test_readers_cannot_take_the_connections_kept_for_operators(limited_daemon) -> None:
    # A hard limit of 400 open files: the connection cap follows from it, so that jobs keep their descriptors.
    daemon = limited_daemon(nofile=(400, 400), **{"daemon.max_connections_per_user": 1000})
    readers = IdleConnections(daemon.socket, 400)
    try:
        await readers.opened()
        assert readers.unanswered == 0, "a connection was neither served nor refused (the daemon is stuck)"
        assert readers.refused
        for error in readers.refused:
            assert error["code"] == ErrorCode.TOO_MANY_CONNECTIONS
            assert "daemon.operator_connections" in error["message"]
        status = await operator_still_served(daemon)
        limits = status["connection_limits"]
        assert limits["open_files_limit"] == 400
        assert limits["max_connections"] <= 400 - limits["file_descriptor_reserve"]
        assert readers.held == limits["max_connections"] - limits["operator_connections"]
    finally:
        readers.close()
    assert len(log_lines(daemon)) < 100, "\n".join(log_lines(daemon)[-20:])


READER_ONLY = {"access.operator_users": [], "access.operator_groups": [], "access.allow_daemon_user": False}
HELLO = b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1}}\n'


async def say_hello(path: Path) -> tuple[RawConnection, dict]:
    """Connect and say hello; the answer, or the refusal the daemon sent before closing."""
    conn = await RawConnection.open(path)
    with contextlib.suppress(ConnectionError):
        await conn.send_line(HELLO.strip())
    try:
        line = await asyncio.wait_for(conn.reader.readline(), 10)
    except ConnectionError:
        line = b""
    return conn, json.loads(line) if line.strip() else {}


async def closed_by_daemon(conn: RawConnection) -> bool:
    """True once the daemon has closed the connection (a reset or broken pipe counts: it did not read our hello)."""
    try:
        return await asyncio.wait_for(conn.reader.read(), 10) == b""
    except ConnectionError:
        return True


async def test_one_user_gets_its_share_of_connections_and_the_reason_beyond_it(daemon_factory) -> None:
    daemon = daemon_factory(**READER_ONLY, **{"daemon.max_connections_per_user": 4})
    held, refused = [], []
    for _ in range(8):
        conn, answer = await say_hello(daemon.socket)
        if "result" in answer:
            held.append(conn)
            continue
        refused.append(answer.get("error"))
        assert await closed_by_daemon(conn)
    assert len(held) <= 4 and len(refused) >= 4
    for error in refused:
        assert error["code"] == ErrorCode.TOO_MANY_CONNECTIONS
        assert "daemon.max_connections_per_user" in error["message"] and "at most 4 per user" in error["message"]
    # The client library reports the refusal itself, not just a connection that went away.
    with pytest.raises(RpcError) as err:
        await RpcClient(daemon.socket).connect()
    assert err.value.code == ErrorCode.TOO_MANY_CONNECTIONS

    for conn in held:  # once they are closed, there is room again
        conn.close()
    for _ in range(100):
        with contextlib.suppress(RpcError):
            async with daemon.client() as client:
                assert (await client.call("daemon.status"))["connections_refused"] >= len(refused) + 1
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no connection was admitted after the others closed")


async def test_a_connection_without_hello_is_closed(daemon_factory) -> None:
    daemon = daemon_factory(**{"daemon.hello_timeout_seconds": 0.5})
    async with daemon.client() as greeted:
        silent = await RawConnection.open(daemon.socket)
        silent.writer.write(b'{"jsonrpc":"2.0","id":1,"method":"hel')  # half a hello, then nothing
        answer = await silent.receive()
        assert answer["error"]["code"] == ErrorCode.CONNECTION_TIMEOUT
        assert "daemon.hello_timeout_seconds" in answer["error"]["message"]
        assert await silent.reader.read() == b""
        # A client that said hello is not subject to it, though it was connected for longer.
        assert (await greeted.call("daemon.status"))["connections"] == 1


async def test_idle_connections_are_closed_but_subscribers_stay(daemon_factory) -> None:
    daemon = daemon_factory(**{"daemon.idle_timeout_seconds": 1})
    async with daemon.client() as subscriber:
        await subscriber.call("events.subscribe", {"kinds": ["job.state"]})
        idle = await RawConnection.open(daemon.socket)
        await idle.hello()
        answer = await idle.receive()
        assert answer["error"]["code"] == ErrorCode.CONNECTION_TIMEOUT
        assert "daemon.idle_timeout_seconds" in answer["error"]["message"]
        assert await idle.reader.read() == b""
        # The subscriber, silent for longer than that, still receives its events and is answered.
        async with daemon.client() as actor:
            job_id = await create_job(actor, files=2)
        async for event in subscriber.events():
            if event["job_id"] == job_id and event["data"]["job"]["state"] == "completed":
                break
        assert (await subscriber.call("daemon.status"))["connections"] == 1
