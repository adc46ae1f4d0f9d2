"""The control socket against a real daemon process: framing, errors, hello, authorisation, events."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from archived.protocol import wire
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.wire import MAX_LINE_BYTES
from archived.rpc.client import IncompatibleDaemon, RpcClient
from tests.support.jobs import create_job, wait_for_state


class RawConnection:
    """A bare socket connection, to send what a well-behaved client never would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: Path) -> RawConnection:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=16 * 1024 * 1024)
        return cls(reader, writer)

    async def send_line(self, data: bytes) -> None:
        self.writer.write(data + b"\n")
        await self.writer.drain()

    async def request(self, message: Any) -> dict[str, Any]:
        await self.send_line(json.dumps(message).encode())
        return await self.receive()

    async def receive(self) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), 10)
        assert line, "the daemon closed the connection"
        return json.loads(line)

    async def hello(self) -> None:
        answer = await self.request({"jsonrpc": "2.0", "id": 0, "method": "hello", "params": {"protocol": 1}})
        assert "result" in answer

    def close(self) -> None:
        self.writer.close()


async def test_socket_permissions(daemon) -> None:
    mode = stat.S_IMODE(os.stat(daemon.socket).st_mode)
    assert mode == 0o660


async def test_hello_is_required_first(daemon) -> None:
    conn = await RawConnection.open(daemon.socket)
    answer = await conn.request({"jsonrpc": "2.0", "id": 1, "method": "jobs.list"})
    assert answer["error"]["code"] == ErrorCode.HELLO_REQUIRED
    await conn.hello()
    answer = await conn.request({"jsonrpc": "2.0", "id": 2, "method": "jobs.list"})
    assert answer["result"]["total"] == 0
    conn.close()


async def test_unsupported_protocol_version(daemon) -> None:
    conn = await RawConnection.open(daemon.socket)
    answer = await conn.request({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"protocol": 99}})
    assert answer["error"]["code"] == ErrorCode.UNSUPPORTED_PROTOCOL
    assert "protocol" in answer["error"]["message"]
    conn.close()


async def test_malformed_requests(daemon) -> None:
    conn = await RawConnection.open(daemon.socket)
    await conn.hello()
    await conn.send_line(b"{not json")
    answer = await conn.receive()
    assert answer["error"]["code"] == ErrorCode.PARSE_ERROR and answer["id"] is None
    assert (await conn.request([1, 2]))["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert (await conn.request({"id": 3, "method": "jobs.list"}))["error"]["code"] == ErrorCode.INVALID_REQUEST
    answer = await conn.request({"jsonrpc": "2.0", "id": 4, "method": "jobs.explode"})
    assert answer["error"]["code"] == ErrorCode.METHOD_NOT_FOUND and answer["id"] == 4
    answer = await conn.request({"jsonrpc": "2.0", "id": 5, "method": "jobs.list", "params": {"limit": "many"}})
    assert answer["error"]["code"] == ErrorCode.INVALID_PARAMS and "limit" in answer["error"]["message"]
    answer = await conn.request({"jsonrpc": "2.0", "id": 6, "method": "jobs.list", "params": {"colour": 1}})
    assert "colour: unknown parameter" in answer["error"]["message"]
    answer = await conn.request({"jsonrpc": "2.0", "id": 7, "method": "jobs.get", "params": {"job_id": "ffffffff"}})
    assert answer["error"]["code"] == ErrorCode.NOT_FOUND
    # The connection survived all of that.
    assert "result" in await conn.request({"jsonrpc": "2.0", "id": 8, "method": "daemon.status"})
    conn.close()


async def test_oversized_line_is_refused_and_the_daemon_lives_on(daemon) -> None:
    conn = await RawConnection.open(daemon.socket)
    await conn.hello()
    conn.writer.write(b'{"jsonrpc":"2.0","id":1,"method":"jobs.list","params":{"x":"' + b"a" * (MAX_LINE_BYTES + 10))
    await conn.writer.drain()
    answer = await conn.receive()
    assert answer["error"]["code"] == ErrorCode.LINE_TOO_LONG
    assert await conn.reader.read() == b""  # closed by the daemon
    async with daemon.client() as client:
        assert (await client.call("daemon.status"))["pid"] == daemon.process.pid


async def test_a_client_that_vanishes_mid_stream_harms_nobody(daemon) -> None:
    for _ in range(5):
        conn = await RawConnection.open(daemon.socket)
        await conn.hello()
        await conn.request({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe", "params": {}})
        await conn.send_line(b'{"jsonrpc":"2.0","id":2,"method":"jobs.list"')  # half a request, then gone
        conn.writer.transport.abort()
    async with daemon.client() as client:
        job_id = await create_job(client, files=20)
        job = await wait_for_state(client, job_id, {"completed", "failed"})
        assert job["state"] == "completed"
        status = await client.call("daemon.status")
        assert status["connections"] == 1


async def test_mutating_calls_need_operator_credentials(daemon_factory) -> None:
    daemon = daemon_factory(
        **{"access.operator_users": [], "access.operator_groups": [], "access.allow_daemon_user": False}
    )
    async with daemon.client() as client:
        assert client.server_info["peer"]["operator"] is False
        assert (await client.call("jobs.list"))["total"] == 0  # reading is allowed
        with pytest.raises(RpcError) as err:
            await client.call("jobs.create", {"course_id": 2, "cmid": 7, "driver": "slowtest"})
        assert err.value.code == ErrorCode.PERMISSION_DENIED
        assert "not an operator" in err.value.message
        for method in ("jobs.cancel", "jobs.retry", "jobs.delete"):
            with pytest.raises(RpcError) as err:
                await client.call(method, {"job_id": "00000000"})
            assert err.value.code == ErrorCode.PERMISSION_DENIED


async def test_events_follow_a_job_and_progress_is_coalesced(daemon) -> None:
    async with daemon.client() as watcher, daemon.client() as actor:
        await watcher.call("events.subscribe", {"kinds": ["job"]})
        job_id = await create_job(actor, files=30)
        states = []
        progress = 0
        async for event in watcher.events():
            if event["job_id"] != job_id:
                continue
            if event["kind"] == "job.state":
                states.append(event["data"]["job"]["state"])
                if states[-1] == "completed":
                    break
            elif event["kind"] == "job.progress":
                progress += 1
        assert states == ["activity_archiving", "post_processing", "store", "cleanup", "completed"]
        assert progress >= 1


async def test_client_detects_incompatible_daemon(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", 42)
    with pytest.raises(IncompatibleDaemon, match="protocol"):
        await RpcClient(daemon.socket).connect()


async def test_unsubscribe_one_subscription_by_id(daemon) -> None:
    async with daemon.client() as client:
        first = await client.call("events.subscribe", {"kinds": ["job.created"]})
        second = await client.call("events.subscribe", {"kinds": ["job.state"]})
        assert first["subscription_id"] != second["subscription_id"]
        assert (await client.call("events.unsubscribe", {"subscription_id": first["subscription_id"]}))[
            "unsubscribed"
        ] == 1
        job_id = await create_job(client, files=1)
        kinds = set()
        async for event in client.events():
            kinds.add(event["kind"])
            if event["kind"] == "job.state" and event["data"]["job"]["state"] == "completed":
                break
        assert kinds == {"job.state"} and job_id
        assert (await client.call("events.unsubscribe"))["unsubscribed"] == 1


async def test_storage_status_without_probe_returns_the_last_probe(daemon) -> None:
    async with daemon.client() as client:
        probed = (await client.call("storage.status", {"probe": True}))["targets"][0]
        cached = (await client.call("storage.status", {"probe": False}))["targets"][0]
        assert cached["checked_at"] == probed["checked_at"] and cached["probe_ok"]
