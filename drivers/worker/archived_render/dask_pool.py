"""Render on a Dask distributed cluster: the same `render(task, lane) -> RenderResult` as the local pool.

Render hosts run `archived render-worker` (Dask workers under a nanny, one task per worker process); the daemon
is a client of the cluster's scheduler. What stays here, in the daemon:

- The archive. A task travels without its output path; the worker answers with the PDF bytes and their check,
  the daemon compares the bytes with the worker's SHA-256 and writes them (atomically) itself. The daemon stays
  the single writer of its store and of every archive.
- The proof. Every worker advertises the resource `archived-render-<fingerprint>` (`fingerprint.py`: archived,
  WeasyPrint, pydyf, fonts, …) and tasks ask for the daemon's own, so a host with other versions or fonts gets no
  work; the task checks the fingerprint again where it runs.
- Fairness and timeouts. At most as many tasks are in the cluster as matching workers have slots (`FairSlots`,
  resized as workers come and go, jobs served in turn), so a task's time is its render, not a queue: a task over
  its timeout is cancelled and the worker running it restarted through its nanny (Dask cannot stop a running
  task), then tried again like the local pool does.

A worker that dies mid-render is Dask's to handle: the scheduler runs the task again on another worker, and as
renders are deterministic the bytes are the same. Only when a task has killed several workers (Dask's
`allowed-failures`) does it reach the daemon, as `RenderCrashed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archived.durable import write_atomic
from archived.errors import ArchivedError, RecoverableError
from archived_render.cluster_address import TlsFiles, check_scheduler
from archived_render.cluster_worker import CheckFailed, FingerprintMismatch, describe_worker, render_on_worker
from archived_render.fair_slots import FairSlots
from archived_render.fingerprint import EngineFingerprint, local_fingerprint
from archived_render.render_pool import PoolStats, RenderCrashed, RenderError, RenderFailed, RenderTimeout
from archived_render.render_task import RenderResult, RenderTask

log = logging.getLogger(__name__)

RESOURCE_PREFIX = "archived-render-"
_REFRESH_SECONDS = 2.0  # how often the worker list is read from the scheduler
_DESCRIBE_SECONDS = 10.0  # how often workers are asked for their versions (a round trip to each)
_RESTART_TIMEOUT = 60.0
_RECONNECT_SECONDS = 10.0  # how often the daemon tries to reach an unreachable scheduler in the background


class ClusterUnavailable(RenderError, RecoverableError):
    """The scheduler cannot be reached, or fewer matching workers than `min_workers` joined in time."""

    code = "render_cluster_unavailable"


class RenderHostMismatch(RenderError, RecoverableError):
    """A worker that advertised the daemon's fingerprint computed another one when it ran the task."""

    code = "render_host_mismatch"


@dataclass(frozen=True)
class ClusterSettings:
    """`[workers.dask]`: where the scheduler is, the TLS files, and what to do when it is not there."""

    scheduler: str
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    connect_timeout_seconds: float = 10.0
    fallback_local: bool = False
    min_workers: int = 1
    html_on_hosts: bool = True  # drivers that can (quiz) build the report HTML on the hosts, not in the daemon

    def __post_init__(self) -> None:
        tls_keys = "tls_ca_file, tls_cert and tls_key"
        check_scheduler(self.scheduler, self.tls_files, scheduler_key="workers.dask.scheduler", tls_keys=tls_keys)

    @property
    def tls_files(self) -> TlsFiles:
        """The CA, certificate and key."""
        return (self.tls_ca_file, self.tls_cert, self.tls_key)

    def security(self) -> Any:
        """Dask's `Security` for the daemon's client (mutual TLS), or None for plain tcp on loopback."""
        return mutual_tls(self.scheduler, self.tls_files, role="client")


def mutual_tls(scheduler: str, tls_files: TlsFiles, *, role: str) -> Any:
    """Dask's `Security` for a `role` ('client' or 'worker') of the cluster, or None for plain tcp on loopback."""
    if not scheduler.startswith("tls://"):
        return None
    from distributed.security import Security

    ca, cert, key = (str(path) for path in tls_files)
    return Security(  # type: ignore[no-untyped-call]
        tls_ca_file=ca, require_encryption=True, **{f"tls_{role}_cert": cert, f"tls_{role}_key": key}
    )


@dataclass
class RenderHost:
    """One worker process of the cluster as the daemon sees it."""

    address: str
    name: str
    host: str
    slots: int
    busy: int
    matches: bool  # advertises the daemon's fingerprint: it gets work
    archived: str = ""  # the archived version it runs ('' until it answered)
    weasyprint: str = ""
    tasks: int = 0  # served since its process started
    differences: list[str] = field(default_factory=list)  # how its fingerprint differs from the daemon's

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class ClusterSnapshot:
    """The cluster as last read: connection, workers, and what is wrong."""

    scheduler: str
    connected: bool = False
    problem: str = ""
    fingerprint: str = ""
    hosts: list[RenderHost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.__dict__, "hosts": [h.to_dict() for h in self.hosts]}


class DaskRenderPool:
    """Renders `RenderTask`s on a Dask cluster's matching workers; the daemon writes the PDFs."""

    def __init__(
        self,
        settings: ClusterSettings,
        *,
        timeout: float = 120.0,
        retries: int = 2,
        task_function: Callable[[RenderTask, str], RenderResult] = render_on_worker,
    ) -> None:
        self.settings = settings
        self.task_function = task_function  # what runs on a worker (bench/cluster.py measures with a probe)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.fingerprint: EngineFingerprint = local_fingerprint()
        self.resource = RESOURCE_PREFIX + self.fingerprint.digest
        self.stats = PoolStats()
        self.snapshot = ClusterSnapshot(settings.scheduler, fingerprint=self.fingerprint.digest)
        self._client: Any = None
        self._connecting = asyncio.Lock()
        self._slots = FairSlots(0)
        self._monitor: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._unreachable_logged = False
        self._empty_since: float | None = None  # since when renders wait with no matching worker
        self._in_flight: set[Any] = set()  # futures of tasks in the cluster now
        self._described: dict[str, dict[str, Any]] = {}  # worker address → describe_worker's answer
        self._described_at = 0.0
        self._closed = False

    @property
    def processes(self) -> int:
        """Slots of the matching workers now (at least 1: a job sizes its prefetching by it)."""
        return max(1, self._slots.capacity)

    @property
    def waiting(self) -> int:
        """Tasks waiting for a slot, over all lanes."""
        return self._slots.waiting

    def start(self) -> None:
        """Connect in the background now and reconnect whenever the connection is lost, so that the hosts (and a
        host that does not match) show in `daemon.status` before the first job needs them."""
        if self._keeper is None:
            self._keeper = asyncio.get_running_loop().create_task(self._keep_connected())

    async def _keep_connected(self) -> None:
        while not self._closed:
            client = self._client
            if client is None or client.status != "running":
                try:
                    await self._connect()
                except ClusterUnavailable as exc:
                    if not self._unreachable_logged:  # once per outage: the status says it all along
                        log.warning("%s (trying again every %g s)", exc.cause, _RECONNECT_SECONDS)
                        self._unreachable_logged = True
                else:
                    self._unreachable_logged = False
            await asyncio.sleep(_RECONNECT_SECONDS)

    async def ready(self) -> str | None:
        """Connect if needed and wait (up to the connect timeout) for `min_workers` matching workers; None = ready,
        else why not."""
        try:
            await self._connect()
        except ClusterUnavailable as exc:
            return exc.cause
        deadline = time.monotonic() + self.settings.connect_timeout_seconds
        while True:
            await self._refresh()
            matching = sum(1 for h in self.snapshot.hosts if h.matches)
            if matching >= self.settings.min_workers:
                return None
            if time.monotonic() >= deadline:
                others = len(self.snapshot.hosts) - matching
                mismatched = f"; {others} other worker(s) run other versions or fonts" if others else ""
                return (
                    f"{matching} matching render worker(s) at {self.settings.scheduler}, "
                    f"{self.settings.min_workers} required (workers.dask.min_workers){mismatched}"
                )
            await asyncio.sleep(0.2)

    async def render(self, task: RenderTask, lane: Hashable = None) -> RenderResult:
        """Render one task on the cluster and write its PDF to `task.output_path` (if given) here."""
        result, tries = await self.call(task.task_id, self.task_function, replace(task, output_path=None), lane=lane)
        return await self.keep(task, result, tries)

    async def call(
        self, task_id: str, function: Callable[..., Any], *args: Any, lane: Hashable = None
    ) -> tuple[Any, int]:
        """`function(*args, fingerprint)` on a matching worker in `lane`'s turn, with the render timeout and retries;
        returns (its answer, the tries it took). `function` must check the fingerprint (the daemon's, passed last).

        Errors: `RenderTimeout`, `RenderCrashed`, `RenderHostMismatch`, `RenderFailed` (the function raised; an
        `ArchivedError` it raised comes back as itself), `ClusterUnavailable`.
        """
        last: RenderError | None = None
        tries = 0
        while tries <= self.retries:
            tries += 1
            if tries > 1:
                self.stats.retries += 1
            try:
                await self._slots.acquire(lane)  # fails with ClusterUnavailable when no matching worker stays
            except ClusterUnavailable as exc:
                last = exc
                break
            try:
                client = await self._connect()
                answer = await self._run(client, task_id, function, args, tries)
            except RenderError as exc:
                last = exc
                log.warning("%s", exc)
                if isinstance(exc, ClusterUnavailable):
                    break  # the job is retried later; another try now would meet the same outage
                continue
            except ArchivedError:
                self.stats.failures += 1
                raise
            finally:
                self._slots.release()
            return answer, tries
        self.stats.failures += 1
        assert last is not None
        raise last

    async def _run(
        self, client: Any, task_id: str, function: Callable[..., Any], args: tuple[Any, ...], tries: int
    ) -> Any:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        from distributed.comm.core import CommClosedError

        key = f"archived-render-{uuid.uuid4().hex}"
        try:
            future = client.submit(
                function, *args, self.fingerprint.digest, key=key, resources={self.resource: 1}, pure=False
            )
        except Exception as exc:  # the client closed or lost its scheduler since it was handed out
            raise ClusterUnavailable(task_id, f"the render cluster went away ({type(exc).__name__})") from None
        self._in_flight.add(future)
        waiter = asyncio.ensure_future(future.result())
        waiter.add_done_callback(_retrieve)
        try:
            done, _ = await asyncio.wait({waiter}, timeout=self.timeout)
        except asyncio.CancelledError:
            waiter.cancel()
            await asyncio.shield(self._stop(client, future))
            raise
        if not done:
            waiter.cancel()
            self.stats.timeouts += 1
            await self._stop(client, future)
            raise RenderTimeout(
                task_id, f"no result within {self.timeout:g} s; its render worker was restarted", tries=tries
            )
        try:
            return waiter.result()
        except KilledWorker as exc:
            self.stats.crashes += 1
            raise RenderCrashed(task_id, f"render workers died running it ({exc})", tries=tries) from None
        except FingerprintMismatch as exc:
            raise RenderHostMismatch(task_id, str(exc), tries=tries) from None
        except CheckFailed as exc:
            raise RenderFailed(task_id, f"the PDF failed its PDF/A check: {exc}", tries=tries) from None
        except (FutureCancelledError, CommClosedError, asyncio.CancelledError) as exc:
            raise ClusterUnavailable(task_id, f"the render cluster went away ({type(exc).__name__})") from None
        except OSError as exc:  # raised on the host (its disk, its memory): another try may land elsewhere
            self.stats.crashes += 1
            raise RenderCrashed(task_id, f"{type(exc).__name__}: {exc}", tries=tries) from None
        except ArchivedError:
            raise  # the function's own verdict (e.g. Moodle's HTML cannot be read), as the local path gives it
        except Exception as exc:  # WeasyPrint raised on the worker: the same input will fail again
            raise RenderFailed(task_id, f"{type(exc).__name__}: {exc}", tries=tries) from None
        finally:
            self._in_flight.discard(future)
            future.release()

    async def keep(self, task: RenderTask, result: RenderResult, tries: int = 1) -> RenderResult:
        """Check the PDF bytes that travelled and write them where `task` wants them (one document rendered)."""
        pdf = result.pdf or b""
        if hashlib.sha256(pdf).hexdigest() != result.sha256 or len(pdf) != result.size:
            raise RenderCrashed(task.task_id, "the PDF arrived damaged (size or SHA-256 differ from the worker's)")
        self.stats.tasks += 1
        if task.output_path is None:
            return replace(result, tries=tries)
        await asyncio.to_thread(write_atomic, task.output_path, pdf)
        return replace(result, pdf=None, path=task.output_path, tries=tries)

    async def _stop(self, client: Any, future: Any) -> None:
        """Cancel a task and restart the worker executing it: Dask cannot stop a running task any other way.

        Only a worker that is executing the task is restarted: a task still queued on a worker (several daemons
        share the cluster) is only cancelled, and whatever else that worker runs goes on.
        """
        try:
            async with asyncio.timeout(self.settings.connect_timeout_seconds):
                processing = await client.processing()
                holding = [worker for worker, keys in processing.items() if future.key in keys]
                await future.cancel()
                executing = await client.run(_executing, future.key, workers=holding) if holding else {}
            running = [worker for worker, busy in executing.items() if busy is True]
            if running:
                log.warning("restarting render worker(s) %s: a task ran over its time", ", ".join(running))
                await client.restart_workers(running, timeout=_RESTART_TIMEOUT, raise_for_error=False)
        except Exception as exc:  # the cluster is in trouble anyway; the next task finds out
            log.warning("could not stop a render task on the cluster: %s", exc)

    async def _connect(self) -> Any:
        """The connected client (made on first use and after a lost connection)."""
        if self._closed:
            raise ClusterUnavailable("task", "the render service is closed")
        client = self._client
        if client is not None and client.status == "running":
            return client
        async with self._connecting:
            if self._client is not None and self._client.status == "connecting":
                # Dask reconnects a client that lost its scheduler by itself: give it the connect timeout.
                for _ in range(int(self.settings.connect_timeout_seconds * 10)):
                    if self._client.status != "connecting":
                        break
                    await asyncio.sleep(0.1)
            if self._client is not None and self._client.status == "running":
                return self._client
            if self._client is not None:
                await _close_quietly(self._client)
                self._client = None
            from distributed import Client

            quiet_message_log()
            try:
                self._client = await Client(  # type: ignore[no-untyped-call]
                    self.settings.scheduler,
                    security=self.settings.security(),
                    asynchronous=True,
                    timeout=self.settings.connect_timeout_seconds,
                    name="archived-daemon",
                    set_as_default=False,
                )
            except Exception as exc:  # OSError, TimeoutError, TLS errors: Dask wraps them variously
                problem = f"cannot reach the render scheduler {self.settings.scheduler}: {exc}"
                self.snapshot.connected, self.snapshot.problem = False, problem
                raise ClusterUnavailable("task", problem) from None
            if self._closed:  # closed while connecting: this client would never be closed otherwise
                await _close_quietly(self._client)
                self._client = None
                raise ClusterUnavailable("task", "the render service is closed")
            log.info("connected to render scheduler %s (fingerprint %s)", self.settings.scheduler, self.resource)
            self.snapshot.connected, self.snapshot.problem = True, ""
            if self._monitor is None or self._monitor.done():
                self._monitor = asyncio.get_running_loop().create_task(self._watch())
            await self._refresh()
            return self._client

    async def _watch(self) -> None:
        """Keep the slot count and the worker list current while connected."""
        while not self._closed:
            await asyncio.sleep(_REFRESH_SECONDS)
            try:
                await self._refresh()
            except Exception as exc:
                log.debug("render cluster refresh failed: %s", exc)

    async def _refresh(self) -> None:
        await self._read_cluster()
        if self._slots.capacity > 0 or not (self._slots.waiting or self._in_flight):
            self._empty_since = None
            return
        # Renders are waiting or in the cluster and no matching worker is there (all left, or the scheduler is
        # gone): after the connect timeout they fail retryably instead of waiting for their timeout or for ever;
        # the job is tried again later.
        now = time.monotonic()
        if self._empty_since is None:
            self._empty_since = now
        elif now - self._empty_since > self.settings.connect_timeout_seconds:
            problem = self.snapshot.problem or f"no matching render worker at {self.settings.scheduler}"
            log.warning("render tasks waiting with no render worker: %s", problem)
            self._slots.fail_waiters(lambda: ClusterUnavailable("task", problem))
            for future in list(self._in_flight):  # no worker will run them: their renders fail retryably too
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(future.cancel(), self.settings.connect_timeout_seconds)
            self._empty_since = None

    async def _read_cluster(self) -> None:
        """Read the scheduler's worker list into the snapshot and size the slots by the matching workers."""
        client = self._client
        if client is None or client.status != "running":
            self.snapshot.connected = False
            self._slots.resize(0)
            return
        try:
            identity = await asyncio.wait_for(client.scheduler.identity(), self.settings.connect_timeout_seconds)
            processing = await client.processing()
        except Exception as exc:
            self.snapshot.connected, self.snapshot.problem = False, f"the render scheduler does not answer: {exc}"
            return
        workers: dict[str, dict[str, Any]] = identity.get("workers", {})
        if time.monotonic() - self._described_at > _DESCRIBE_SECONDS or set(workers) - set(self._described):
            self._described = await self._describe(client)
            self._described_at = time.monotonic()
        hosts = []
        for address, info in sorted(workers.items()):
            resources = info.get("resources") or {}
            matches = resources.get(self.resource, 0) >= 1
            described = self._described.get(address, {})
            fingerprint = described.get("fingerprint")
            differences: list[str] = []
            archived = ""
            if isinstance(fingerprint, dict):
                theirs = EngineFingerprint.from_dict(fingerprint)
                differences = theirs.differences(self.fingerprint)
                archived = theirs.archived_version
            elif not any(name.startswith(RESOURCE_PREFIX) for name in resources):
                differences = ["not an archived render worker (no fingerprint resource)"]
            hosts.append(
                RenderHost(
                    address=address,
                    name=str(info.get("name", "")),
                    host=str(info.get("host", "")),
                    slots=int(resources.get(self.resource, 0)) if matches else int(info.get("nthreads", 1)),
                    busy=len(processing.get(address, ())),
                    matches=matches and not differences,
                    archived=archived,
                    weasyprint=str(described.get("weasyprint", "")),
                    tasks=int(described.get("tasks", 0) or 0),
                    differences=differences,
                )
            )
        self.snapshot.hosts = hosts
        self.snapshot.connected, self.snapshot.problem = True, ""
        self._slots.resize(sum(h.slots for h in hosts if h.matches))

    async def _describe(self, client: Any) -> dict[str, dict[str, Any]]:
        """Every worker's versions and counters (workers without archived installed answer with an error)."""
        try:
            answers = await asyncio.wait_for(
                client.run(describe_worker, on_error="return"), self.settings.connect_timeout_seconds
            )
        except Exception as exc:
            log.debug("could not ask the render workers for their versions: %s", exc)
            return self._described
        return {address: answer for address, answer in answers.items() if isinstance(answer, dict)}

    async def close(self) -> None:
        """Disconnect; tasks waiting for a slot fail as `ClusterUnavailable`."""
        if self._closed:
            return
        self._closed = True
        self._slots.fail_waiters(lambda: ClusterUnavailable("task", "the render service is closing"))
        for task in (self._monitor, self._keeper):
            if task is not None:
                task.cancel()
        if self._client is not None:
            await _close_quietly(self._client)
            self._client = None


def quiet_message_log() -> None:
    """Keep no copies of sent messages: Dask's default keeps the last 1,000 below 1 MB per connection for debugging,
    and a report task is a few hundred kB, so a daemon grew by about 0.4 MB per report until it held 1,000 of them
    (and a scheduler as much per worker). Set before a client, worker or scheduler is made."""
    import dask

    dask.config.set({"distributed.admin.low-level-log-length": 0})


def _executing(key: str, dask_worker: Any = None) -> bool:
    """Whether this worker is executing `key` now (not merely holding it in its queue); run on the workers."""
    state = getattr(dask_worker, "state", None)
    executing = getattr(state, "executing", ())
    return any(getattr(task, "key", None) == key for task in executing)


def _retrieve(waiter: asyncio.Future[Any]) -> None:
    """Mark a result waiter's exception as seen (a cancelled or timed-out wait would log it as never retrieved)."""
    if not waiter.cancelled():
        waiter.exception()


async def _close_quietly(client: Any) -> None:
    try:
        await asyncio.wait_for(client.close(), 10)
    except Exception as exc:
        log.debug("closing the render cluster client: %s", exc)
