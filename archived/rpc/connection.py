"""One client connection to the control socket, as the server and the session methods see it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from archived.events.bus import Subscription
from archived.protocol import wire
from archived.rpc.peer import Peer


@dataclass(eq=False)
class Connection:
    """One client connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    peer: Peer
    operator: bool = False
    greeted: bool = False
    client_name: str = ""
    subscriptions: list[tuple[Subscription, asyncio.Task[None]]] = field(default_factory=list)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False
    opened_at: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)  # last request received or answered
    in_flight: int = 0

    @property
    def busy(self) -> bool:
        """Waiting on its own requests or subscribed to events: not idle, however long it is silent."""
        return self.in_flight > 0 or bool(self.subscriptions)

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message; a vanished client just closes the connection."""
        await self.send_line(wire.encode(message))

    async def send_line(self, line: bytes) -> None:
        """Write one encoded message (`archived.protocol.wire`)."""
        if self.closed:
            return
        async with self.write_lock:
            try:
                self.writer.write(line)
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                self.closed = True
