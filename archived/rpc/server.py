"""The daemon's side of the control socket.

Each connection: the first call must be `hello`; requests are answered concurrently (a slow storage probe
does not hold up events); a line longer than `MAX_LINE_BYTES` is answered with an error and the connection is
closed; a client that goes away mid-stream only ends its own connection. Mutating methods are refused unless
the peer's credentials belong to an operator.

Abuse: a connection beyond the limits of `ConnectionLimits` gets one error line naming the limit and is closed;
so is one that sends no `hello` in time, or that stays idle long without an event subscription (a subscriber,
such as the TUI, is idle by design and stays).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import json
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from archived.errors import ArchivedError
from archived.events.bus import Subscription, SubscriptionOverflow
from archived.protocol import wire
from archived.protocol.base import params_problems
from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.connection import Connection
from archived.rpc.errors import rpc_error
from archived.rpc.limits import ConnectionLimits
from archived.rpc.method import Call, Method, MethodTable
from archived.rpc.peer import AccessPolicy, peer_of

log = logging.getLogger("archived.rpc")

MAX_IN_FLIGHT = 32
MAX_LINGERING_REFUSALS = 32
REFUSAL_LINGER_SECONDS = 1.0


class ConnectionExpired(Exception):
    """A connection sent no hello in time, or stayed idle too long; the message says which and names the key."""


async def _discard_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(64 * 1024):
        pass


class RpcServer:
    """Serves the socket methods to every connected client."""

    def __init__(self, policy: AccessPolicy, limits: ConnectionLimits | None = None) -> None:
        self.methods: MethodTable = {}
        self.policy = policy
        self.limits = limits or ConnectionLimits()
        self.refused_connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        self._per_uid: Counter[int] = Counter()
        self._lingering = 0  # refused connections waiting for their client to hang up
        self._tasks: set[asyncio.Task[Any]] = set()

    def register(self, methods: Iterable[Method[Any, Any]]) -> None:
        """Serve these methods (a name registered twice is a wiring mistake)."""
        for method in methods:
            if method.name in self.methods:
                raise ValueError(f"socket method {method.name} registered twice")
            self.methods[method.name] = method

    async def start(self, path: Path, *, mode: int, group: str | None = None) -> None:
        """Bind a new socket at `path` (a stale socket file there is replaced: the caller holds the lock)."""
        os.makedirs(path.parent, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        old_umask = os.umask(0o177)  # no window in which the socket is more open than configured
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(path), limit=wire.MAX_LINE_BYTES + 2)
        finally:
            os.umask(old_umask)
        if group:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
        os.chmod(path, mode)

    async def start_on(self, sock: socket.socket) -> None:
        """Serve an inherited, already bound socket (systemd socket activation)."""
        self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=wire.MAX_LINE_BYTES + 2)

    async def close(self) -> None:
        """Stop accepting, close every connection."""
        if self._server:
            self._server.close()
        for connection in list(self._connections):
            await self._close_connection(connection)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def connection_count(self) -> int:
        """Open client connections."""
        return len(self._connections)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            peer = peer_of(sock)
        except OSError:
            writer.close()
            return
        connection = Connection(reader, writer, peer, operator=self.policy.may_mutate(peer))
        # Checked and counted with no await in between, so that simultaneous connections cannot all slip in.
        refusal = self.limits.refusal(
            user=peer.username,
            uid=peer.uid,
            operator=connection.operator,
            total=len(self._connections),
            of_user=self._per_uid[peer.uid],
        )
        if refusal is not None:
            await self._refuse(connection, refusal)
            return
        self._connections.add(connection)
        self._per_uid[peer.uid] += 1
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        try:
            while not connection.closed:
                try:
                    line = await self._read_line(connection)
                except ConnectionExpired as expired:
                    await connection.send(wire.error(None, RpcError(ErrorCode.CONNECTION_TIMEOUT, str(expired))))
                    log.debug("closed a connection of user %s: %s", peer.username, expired)
                    break
                except asyncio.IncompleteReadError:
                    break  # the client closed the connection
                except asyncio.LimitOverrunError:
                    await connection.send(
                        wire.error(
                            None,
                            RpcError(
                                ErrorCode.LINE_TOO_LONG,
                                f"request line longer than {wire.MAX_LINE_BYTES} bytes; connection closed",
                            ),
                        )
                    )
                    break
                except ConnectionError:
                    break
                connection.last_active = time.monotonic()
                if not line.strip():
                    continue
                await in_flight.acquire()
                connection.in_flight += 1
                task = asyncio.create_task(self._dispatch(connection, line))
                self._tasks.add(task)
                task.add_done_callback(self._finished(connection, in_flight))
                if not connection.greeted:
                    await task  # nothing runs before the hello has been answered
        finally:
            await self._close_connection(connection)

    async def _read_line(self, connection: Connection) -> bytes:
        """The next request line; `ConnectionExpired` for a connection silent or idle for too long."""
        limits = self.limits
        while True:
            now = time.monotonic()
            if not connection.greeted:
                timeout = connection.opened_at + limits.hello_timeout_seconds - now
                reason = (
                    f"no hello within {limits.hello_timeout_seconds:g} s of connecting "
                    "(daemon.hello_timeout_seconds); connection closed"
                )
            elif connection.busy:
                timeout, reason = limits.idle_timeout_seconds, ""  # then look again: it may have stopped
            else:
                timeout = connection.last_active + limits.idle_timeout_seconds - now
                reason = (
                    f"idle for {limits.idle_timeout_seconds:g} s without a request or an event subscription "
                    "(daemon.idle_timeout_seconds); connection closed, reconnect when needed"
                )
            if timeout <= 0:
                raise ConnectionExpired(reason)
            try:
                # Cancelling readuntil keeps a partly received line in the buffer for the next attempt.
                async with asyncio.timeout(timeout):
                    return await connection.reader.readuntil(b"\n")
            except TimeoutError:
                continue  # look again: a subscription or a request may have started meanwhile

    async def _refuse(self, connection: Connection, reason: str) -> None:
        self.refused_connections += 1
        log.warning("refused a connection of uid %d: %s", connection.peer.uid, reason.split(";")[0])
        await connection.send(wire.error(None, RpcError(ErrorCode.TOO_MANY_CONNECTIONS, reason)))
        connection.closed = True
        # Closed at once, the client's hello would meet a broken pipe and its socket library would drop the
        # unread refusal with it. So: end our side, and let the client read and hang up first, briefly, and
        # only for a bounded number of refused connections at a time (each still holds a descriptor).
        if self._lingering < MAX_LINGERING_REFUSALS:
            self._lingering += 1
            try:
                with contextlib.suppress(Exception):
                    connection.writer.write_eof()
                    await asyncio.wait_for(_discard_until_eof(connection.reader), REFUSAL_LINGER_SECONDS)
            finally:
                self._lingering -= 1
        with contextlib.suppress(Exception):
            connection.writer.close()

    def _finished(self, connection: Connection, in_flight: asyncio.Semaphore) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            in_flight.release()
            connection.in_flight -= 1
            connection.last_active = time.monotonic()

        return done

    async def _close_connection(self, connection: Connection) -> None:
        connection.closed = True
        for subscription, pump in connection.subscriptions:
            subscription.close()
            pump.cancel()
        connection.subscriptions.clear()
        if connection in self._connections:
            self._connections.discard(connection)
            self._per_uid[connection.peer.uid] -= 1
            if self._per_uid[connection.peer.uid] <= 0:
                del self._per_uid[connection.peer.uid]
        with contextlib.suppress(Exception):
            connection.writer.close()

    async def _dispatch(self, connection: Connection, line: bytes) -> None:
        request_id: Any = None
        try:
            try:
                message = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise RpcError(ErrorCode.PARSE_ERROR, f"not valid JSON: {exc}") from None
            if not isinstance(message, dict):
                raise RpcError(
                    ErrorCode.INVALID_REQUEST, "expected one JSON object per line (batches are not supported)"
                )
            request_id = message.get("id")
            if message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
                raise RpcError(ErrorCode.INVALID_REQUEST, 'a request needs "jsonrpc": "2.0" and a "method" string')
            if request_id is not None and not isinstance(request_id, int | str):
                request_id = None
                raise RpcError(ErrorCode.INVALID_REQUEST, "id must be a number or a string")
            answer = await self._call(connection, message["method"], message.get("params"))
            if request_id is not None:
                await connection.send_line(wire.encode_result(request_id, answer))
        except RpcError as err:
            await connection.send(wire.error(request_id, err))
        except ArchivedError as exc:
            await connection.send(wire.error(request_id, rpc_error(exc)))
        except Exception as exc:
            log.exception("socket method failed")
            await connection.send(
                wire.error(request_id, RpcError(ErrorCode.INTERNAL_ERROR, f"internal error: {type(exc).__name__}"))
            )

    async def _call(self, connection: Connection, name: str, raw_params: Any) -> BaseModel:
        method = self.methods.get(name)
        if method is None:
            raise RpcError(ErrorCode.METHOD_NOT_FOUND, f"unknown method {name!r}")
        if not connection.greeted and name != "hello":
            raise RpcError(ErrorCode.HELLO_REQUIRED, "call hello first (protocol version negotiation)")
        may_mutate = connection.operator
        if method.spec.mutating and not may_mutate:
            raise RpcError(
                ErrorCode.PERMISSION_DENIED,
                f"user {connection.peer.username} (uid {connection.peer.uid}) may not call {name}: "
                "not an operator (see [access] in the daemon's configuration)",
            )
        if raw_params is None:
            raw_params = {}
        if not isinstance(raw_params, dict):
            raise RpcError(ErrorCode.INVALID_PARAMS, "params must be an object")
        try:
            params = method.spec.params.model_validate(raw_params)
        except ValidationError as exc:
            raise RpcError(ErrorCode.INVALID_PARAMS, params_problems(exc)) from None
        answer: BaseModel = await method.handler(params, Call(connection.peer, connection, may_mutate))
        return answer

    def unsubscribe(self, connection: Connection, subscription_id: int | None) -> int:
        """End one subscription of a connection (or all with None); returns how many ended."""
        keep, ended = [], 0
        for subscription, pump in connection.subscriptions:
            if subscription_id is None or subscription.id == subscription_id:
                subscription.close()
                pump.cancel()
                ended += 1
            else:
                keep.append((subscription, pump))
        connection.subscriptions[:] = keep
        return ended

    def subscribe(self, connection: Connection, subscription: Subscription) -> None:
        """Start pushing a subscription's events to a connection."""
        pump = asyncio.create_task(self._pump(connection, subscription))
        connection.subscriptions.append((subscription, pump))

    async def _pump(self, connection: Connection, subscription: Subscription) -> None:
        try:
            while not connection.closed:
                event = await subscription.get()
                await connection.send(wire.notification(wire.EVENT_METHOD, event.to_dict()))
        except SubscriptionOverflow as exc:
            await connection.send(
                wire.error(None, RpcError(ErrorCode.TOO_SLOW, f"event subscription dropped: {exc}; resubscribe"))
            )
            await self._close_connection(connection)
