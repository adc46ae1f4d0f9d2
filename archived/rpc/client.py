"""The client side of the control socket, used by the CLI and the TUI: it knows the protocol and nothing else of
the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from archived import __version__
from archived.protocol import wire
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import HELLO, MethodSpec
from archived.protocol.session import HelloParams

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class DaemonUnreachable(Exception):
    """The socket is missing, refused the connection, or the daemon went away."""


class IncompatibleDaemon(Exception):
    """The daemon speaks a protocol version this client does not."""


class RpcClient:
    """One connection to the daemon; calls can run concurrently; events arrive through `events()`."""

    def __init__(self, path: Path, *, client_name: str = "archived-cli") -> None:
        self.path = path
        self.client_name = client_name
        self.server_info: dict[str, Any] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader_task: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self._closing_error: RpcError | None = None  # why the daemon closed the connection, if it said so
        self.closed = asyncio.Event()

    async def connect(self) -> dict[str, Any]:
        """Connect and say hello; returns the daemon's hello answer."""
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                str(self.path), limit=wire.MAX_LINE_BYTES * 64
            )
        except FileNotFoundError:
            raise DaemonUnreachable(
                f"no daemon socket at {self.path}; is the daemon running? (systemctl status archived)"
            ) from None
        except PermissionError:
            raise DaemonUnreachable(
                f"permission denied on {self.path}; ask an administrator to add you to the socket's group"
            ) from None
        except (ConnectionRefusedError, OSError) as exc:
            raise DaemonUnreachable(f"cannot connect to {self.path}: {exc}") from None
        self._reader_task = asyncio.create_task(self._read_loop())
        try:
            hello = HelloParams(protocol=wire.PROTOCOL_VERSION, client=f"{self.client_name}/{__version__}")
            self.server_info = await self.call(HELLO.name, HELLO.encode(hello))
        except RpcError as err:
            await self.close()
            if err.code == ErrorCode.UNSUPPORTED_PROTOCOL:
                raise IncompatibleDaemon(err.message) from None
            raise
        return self.server_info

    async def __aenter__(self) -> RpcClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
        self._fail_pending(DaemonUnreachable("connection closed"))

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a method and return its result; raises `RpcError` for error answers."""
        if self._writer is None or self.closed.is_set():
            raise DaemonUnreachable("not connected to the daemon")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = wire.encode(wire.request(method, params, request_id))
        try:
            async with self._write_lock:
                self._writer.write(line)
                await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._pending.pop(request_id, None)
            # The daemon refused or closed the connection: its reason may still be on its way to the read loop.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closed.wait(), 1)
            if self._closing_error is not None:
                raise self._closing_error from None
            raise DaemonUnreachable(f"the daemon went away: {exc}") from None
        return await future

    async def request(self, spec: MethodSpec[P, R], params: P) -> R:
        """Call a method of the protocol's catalogue with typed parameters; returns its typed result."""
        return spec.decode(await self.call(spec.name, spec.encode(params)))

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Event notifications (after `events.subscribe`); ends when the connection closes."""
        while True:
            item = await self._events.get()
            if item is None:
                return
            yield item

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                message = wire.decode(line)
                if "id" in message and message["id"] is not None and ("result" in message or "error" in message):
                    future = self._pending.pop(message["id"], None)
                    if future is None or future.done():
                        continue
                    if "error" in message:
                        err = message["error"]
                        future.set_exception(RpcError(err.get("code", 0), err.get("message", ""), err.get("data")))
                    else:
                        future.set_result(message["result"])
                elif message.get("method") == wire.EVENT_METHOD:
                    self._events.put_nowait(message.get("params", {}))
                elif "error" in message:  # a connection-level error (refused, timed out, line too long, too slow)
                    err = message["error"]
                    self._closing_error = RpcError(err.get("code", 0), err.get("message", ""), err.get("data"))
                    self._events.put_nowait({"kind": "connection.error", "data": err})
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.closed.set()
            self._events.put_nowait(None)
            self._fail_pending(self._closing_error or DaemonUnreachable("the daemon closed the connection"))

    def _fail_pending(self, exc: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(exc)
        self._pending.clear()
