"""A TCP proxy on loopback that can cut connections: a network that fails in the middle of an upload.

It runs its own event loop in a thread, so that it serves a daemon child process and async or sync tests alike.
`cut_after(n)` makes every new connection drop (both directions, by a reset) once `n` bytes went from client to
server; `heal()` lets connections through again. Each connection's byte counts are kept for assertions.

    with TcpProxy("127.0.0.1", server_port) as proxy:
        proxy.cut_after(1_000_000)     # the next uploads break after 1 MB
        ... point the client at proxy.port ...
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass


@dataclass
class ProxiedConnection:
    """Bytes one connection carried, and whether the proxy cut it."""

    upstream_bytes: int = 0
    downstream_bytes: int = 0
    cut: bool = False


class TcpProxy:
    """Forwards loopback connections to `(host, port)`; see the module docstring."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.connections: list[ProxiedConnection] = []
        self._cut_after: int | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a free loopback port (`self.port`)."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close every connection and the listener."""

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut_after(self, upstream_bytes: int) -> None:
        """New connections are reset once `upstream_bytes` went from client to server."""
        with self._lock:
            self._cut_after = upstream_bytes

    def heal(self) -> None:
        """New connections are no longer cut."""
        with self._lock:
            self._cut_after = None

    @property
    def cuts(self) -> int:
        """How many connections the proxy cut."""
        with self._lock:
            return sum(1 for c in self.connections if c.cut)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        with self._lock:
            record = ProxiedConnection()
            self.connections.append(record)
            limit = self._cut_after
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if upstream:
                        if limit is not None and record.upstream_bytes + len(data) >= limit:
                            # Forward what fits under the limit, then break the path in both directions.
                            head = data[: limit - record.upstream_bytes]
                            record.upstream_bytes += len(head)
                            writer.write(head)
                            with contextlib.suppress(ConnectionError, OSError):
                                await writer.drain()
                            record.cut = True
                            for end in (client_writer, server_writer):
                                _reset(end)
                            return
                        record.upstream_bytes += len(data)
                    else:
                        record.downstream_bytes += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        await asyncio.gather(pump(client_reader, server_writer, True), pump(server_reader, client_writer, False))
        self._writers -= {client_writer, server_writer}


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), as a broken network path or a crashed middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
