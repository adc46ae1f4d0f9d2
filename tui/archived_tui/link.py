"""The TUI's connection to the daemon: connect, subscribe, batch events, and reconnect when it goes away.

The link owns one `RpcClient` at a time. Screens never see the client: they call typed methods on
`link.api` and subscribe to two Textual signals, `link.connection` (a `ConnectionState` whenever the
connection changes) and `link.events` (an `EventBatch` at most every `flush_interval` seconds).

Input wins over a flood of events: the pump yields to the app every `PUMP_CHUNK` events, and a batch is handed
to the screens through the app's message queue, behind the keys already waiting there. At most one delivery is
queued at a time; events that arrive meanwhile fold into it (a pending update replaces the previous one).

Reconnect: when the socket closes, the link publishes `disconnected`, retries with a growing delay (capped),
and on success subscribes again (the main subscription plus every job whose log is being watched) before
it publishes `connected` with a new `generation`; screens refetch everything they show when the generation
changes, which also covers whatever happened while the link was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from textual.dom import DOMNode
from textual.signal import Signal

from archived.protocol.errors import RpcError
from archived.protocol.methods import EVENTS_SUBSCRIBE, HELLO
from archived.protocol.session import HelloResult, SubscribeParams
from archived.rpc.client import DaemonUnreachable, IncompatibleDaemon, RpcClient
from archived_tui.api import DaemonApi
from archived_tui.batching import EventBatch, EventBatcher

# Everything but job logs, which are subscribed per job while a detail screen shows them.
MAIN_KINDS = ["job.created", "job.state", "job.progress", "job.deleted", "job.completed", "job.failed", "job.aborted",
              "storage", "courses"]  # fmt: skip
RECONNECT_DELAYS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
INCOMPATIBLE_RETRY_SECONDS = 15.0
# Per-job log subscriptions cannot be dropped one by one (protocol 1 only has `events.unsubscribe` for all);
# past this many, the link starts a fresh connection with only the logs still watched.
MAX_LOG_SUBSCRIPTIONS = 32
# Events read in a row before the pump lets the app handle keys and repaint.
PUMP_CHUNK = 50


class DaemonConnection(Protocol):
    """What the link needs of a client (`archived.rpc.client.RpcClient` is one)."""

    server_info: dict[str, Any]

    async def connect(self) -> dict[str, Any]: ...

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...

    def events(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


Status = Literal["connecting", "connected", "disconnected", "incompatible"]


@dataclass(frozen=True)
class ConnectionState:
    """Where the link stands; published on every change."""

    status: Status
    socket: Path
    message: str = ""
    server: HelloResult | None = None  # the daemon's `hello` answer
    generation: int = 0  # +1 on every successful connect: screens refetch when it changes
    attempt: int = 0
    retry_in: float | None = None
    since: float = field(default=0.0, compare=False)

    @property
    def connected(self) -> bool:
        """Whether calls can be made now."""
        return self.status == "connected"


class DaemonLink:
    """One reconnecting connection to the daemon, shared by every screen."""

    def __init__(
        self,
        owner: DOMNode,
        socket: Path,
        *,
        client_factory: Callable[[], DaemonConnection] | None = None,
        flush_interval: float = 0.1,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.socket = socket
        self._owner = owner
        self._factory = client_factory or (lambda: RpcClient(socket, client_name="archived-tui"))
        self._flush_interval = flush_interval
        self._delays = tuple(reconnect_delays)
        self._clock = clock
        self.connection: Signal[ConnectionState] = Signal(owner, "connection")
        self.events: Signal[EventBatch] = Signal(owner, "events")
        self.api = DaemonApi(self.call)
        self.state = ConnectionState("connecting", socket, f"connecting to {socket}", since=clock())
        self._client: DaemonConnection | None = None
        self._batcher = EventBatcher()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._delivery_queued = False
        self.events_received = 0  # every event read from the daemon (benchmarks and tests watch it)
        self._wake = asyncio.Event()
        self._stopping = False
        self._watched: Counter[str] = Counter()  # job id → screens showing its log
        self._log_subscribed: set[str] = set()
        self._fresh_start = False  # set when the link itself restarts the connection (no banner)
        self._closing: asyncio.Future[None] | None = None  # a close started outside the loop (kept referenced)

    # -- used by screens ----------------------------------------------------------------------------------

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a method on the current connection; `DaemonUnreachable` while disconnected."""
        client = self._client
        if client is None:
            raise DaemonUnreachable(f"not connected to the daemon at {self.socket}; reconnecting")
        return await client.call(method, params)

    async def watch_logs(self, job_id: str) -> None:
        """Start receiving `job.log` events of one job (kept across reconnects until `unwatch_logs`)."""
        self._watched[job_id] += 1
        client = self._client
        if client is None or job_id in self._log_subscribed:
            return
        if len(self._log_subscribed) >= MAX_LOG_SUBSCRIPTIONS:
            self._restart_quietly()
            return
        with contextlib.suppress(DaemonUnreachable, RpcError):  # the next connect subscribes again
            await self._subscribe_logs(client, job_id)

    def unwatch_logs(self, job_id: str) -> None:
        """Stop caring about a job's log lines (the server-side subscription lapses at the next reconnect)."""
        self._watched[job_id] -= 1
        if self._watched[job_id] <= 0:
            del self._watched[job_id]

    def reconnect_now(self) -> None:
        """Skip the remaining wait before the next connection attempt."""
        self._wake.set()

    def stop(self) -> None:
        """End `run()` (the app is quitting)."""
        self._stopping = True
        self._wake.set()
        if self._client is not None:
            client, self._client = self._client, None
            self._closing = asyncio.ensure_future(client.close())

    # -- the loop -----------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, pump events, reconnect; returns only after `stop()`."""
        attempt = 0
        generation = 0
        while not self._stopping:
            client = self._factory()
            try:
                hello = await client.connect()
                await client.call(EVENTS_SUBSCRIBE.name, EVENTS_SUBSCRIBE.encode(SubscribeParams(kinds=MAIN_KINDS)))
                self._log_subscribed.clear()
                for job_id in list(self._watched):
                    await self._subscribe_logs(client, job_id)
            except IncompatibleDaemon as exc:
                await self._close(client)
                self._publish(replace(self.state, status="incompatible", message=str(exc), server=None,
                                      attempt=attempt, retry_in=INCOMPATIBLE_RETRY_SECONDS))  # fmt: skip
                await self._sleep(INCOMPATIBLE_RETRY_SECONDS)
                continue
            except (DaemonUnreachable, RpcError, OSError) as exc:
                await self._close(client)
                attempt += 1
                delay = self._delays[min(attempt, len(self._delays)) - 1]
                message = exc.message if isinstance(exc, RpcError) else str(exc)
                self._publish(replace(self.state, status="disconnected", message=message, server=None,
                                      attempt=attempt, retry_in=delay))  # fmt: skip
                await self._sleep(delay)
                continue
            attempt = 0
            generation += 1
            self._fresh_start = False
            self._client = client
            self._publish(
                ConnectionState(
                    "connected",
                    self.socket,
                    f"connected to {self.socket}",
                    server=HELLO.decode(hello),
                    generation=generation,
                )
            )
            await self._pump(client)
            self._client = None
            await self._close(client)
            self._flush()
            if self._stopping:
                break
            if not self._fresh_start:
                self._publish(replace(self.state, status="disconnected", retry_in=self._delays[0], attempt=0,
                                      message=f"lost the connection to the daemon at {self.socket}"))  # fmt: skip
                await self._sleep(self._delays[0])

    async def _pump(self, client: DaemonConnection) -> None:
        in_a_row = 0
        async for event in client.events():
            self.events_received += 1
            if event.get("kind") == "connection.error":
                # The daemon cut this subscriber off (too slow): start over, refetching everything.
                self._batcher.add(event)
                self._fresh_start = True
                break
            self._batcher.add(event)
            self._schedule_delivery()
            in_a_row += 1
            if in_a_row >= PUMP_CHUNK:
                # Queued events never make the client's iterator wait: without this the pump would read a whole
                # backlog before the app saw a key.
                in_a_row = 0
                await asyncio.sleep(0)

    def _schedule_delivery(self) -> None:
        if self._flush_handle is None and not self._delivery_queued:
            self._flush_handle = asyncio.get_running_loop().call_later(self._flush_interval, self._queue_delivery)

    def _queue_delivery(self) -> None:
        """Hand the batch over through the app's message queue (behind waiting keys), once."""
        self._flush_handle = None
        if self._delivery_queued:
            return
        self._delivery_queued = self._owner.call_later(self._deliver)
        if not self._delivery_queued:  # the app is closing
            self._batcher.drain()

    def _deliver(self) -> None:
        self._delivery_queued = False
        if self._batcher.pending():
            self.events.publish(self._batcher.drain(now=self._clock()))
        if self._batcher.pending():  # arrived while the screens applied the batch: the next interval takes them
            self._schedule_delivery()

    def _flush(self) -> None:
        """Deliver what is pending now (the connection ended)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._batcher.pending():
            self.events.publish(self._batcher.drain(now=self._clock()))

    async def _subscribe_logs(self, client: DaemonConnection, job_id: str) -> None:
        params = SubscribeParams(kinds=["job.log"], job_ids=[job_id])
        await client.call(EVENTS_SUBSCRIBE.name, EVENTS_SUBSCRIBE.encode(params))
        self._log_subscribed.add(job_id)

    def _restart_quietly(self) -> None:
        self._fresh_start = True
        if self._client is not None:
            self._closing = asyncio.ensure_future(self._client.close())

    async def _close(self, client: DaemonConnection) -> None:
        with contextlib.suppress(Exception):
            await client.close()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _publish(self, state: ConnectionState) -> None:
        self.state = replace(state, since=self._clock())
        self.connection.publish(self.state)
