"""A render host: Dask worker processes, each under a nanny, serving the render tasks of archived daemons.

`archived render-worker` runs this. Each worker process has one thread (one render at a time: WeasyPrint is
CPU-bound, and a timed-out task is stopped by restarting its process), advertises the resource
`archived-render-<fingerprint>` so only daemons with the same versions and fonts send it work, warms its engine up
before it joins (`cluster_preload`), and is replaced by its nanny after `max_tasks` tasks, when it passes its
memory limit, when it dies, or when a daemon restarts it over a stuck render.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archived_render.cluster_address import check_scheduler
from archived_render.dask_pool import RESOURCE_PREFIX, mutual_tls, quiet_message_log
from archived_render.fingerprint import local_fingerprint

log = logging.getLogger(__name__)

_SUPERVISE_SECONDS = 2.0  # how often a nanny's state is looked at, and the pause before another try to join


@dataclass(frozen=True)
class RenderHostSettings:
    """What `archived render-worker` was told."""

    scheduler: str
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    processes: int = 0  # 0 = one per core
    max_tasks: int = 500
    memory_limit: str = "2GiB"  # per process; the nanny restarts a process that grows past it
    name: str = ""  # worker names are NAME-1, NAME-2, … (default: the host name)
    listen_host: str | None = None  # the address workers listen on (default: Dask's choice)

    def __post_init__(self) -> None:
        check_scheduler(self.scheduler, (self.tls_ca_file, self.tls_cert, self.tls_key),
                        scheduler_key="--scheduler", tls_keys="--tls-ca-file, --tls-cert and --tls-key")  # fmt: skip

    @property
    def process_count(self) -> int:
        """The effective number of worker processes."""
        return self.processes or (os.cpu_count() or 1)

    def security(self) -> Any:
        """Dask's `Security` for the workers (mutual TLS), or None on plain tcp."""
        return mutual_tls(self.scheduler, (self.tls_ca_file, self.tls_cert, self.tls_key), role="worker")


async def serve(settings: RenderHostSettings, stop: asyncio.Event | None = None) -> None:
    """Run the worker processes until `stop` is set (or SIGTERM/SIGINT arrives).

    Each worker process has a supervisor: when Dask closes a nanny (its scheduler went away for longer than Dask
    waits, e.g. a restart of the scheduler's host), a new one starts and joins the scheduler once it is back.
    """
    quiet_message_log()  # the nannies hand Dask's configuration to their worker processes
    fingerprint = local_fingerprint()
    prefix = settings.name or socket.gethostname()
    log.info(
        "render host %s: %d worker process(es) for %s, fingerprint %s (archived %s, WeasyPrint %s)",
        prefix,
        settings.process_count,
        settings.scheduler,
        fingerprint.digest,
        fingerprint.archived_version,
        fingerprint.versions.get("weasyprint"),
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        names = [f"{prefix}-{number}" for number in range(1, settings.process_count + 1)]
        await asyncio.gather(
            *(_supervise(settings, RESOURCE_PREFIX + fingerprint.digest, name, stop) for name in names)
        )
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _supervise(settings: RenderHostSettings, resource: str, name: str, stop: asyncio.Event) -> None:
    """Keep one nanny (and its worker process) running until `stop`; a nanny Dask closed is replaced."""
    from distributed import Nanny
    from distributed.core import Status

    while not stop.is_set():
        nanny = Nanny(
            settings.scheduler,
            nthreads=1,
            name=name,
            resources={resource: 1},
            memory_limit=settings.memory_limit,
            security=settings.security(),
            preload=["archived_render.cluster_preload"],
            preload_argv=["--max-tasks", str(settings.max_tasks)],
            host=settings.listen_host,
            dashboard=False,
        )
        try:
            starting = asyncio.ensure_future(nanny.start())  # type: ignore[no-untyped-call]
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not starting.done():
                starting.cancel()
                break
            starting.result()  # a start that failed raises here
            log.info("render worker %s joined %s", name, settings.scheduler)
            while not stop.is_set() and nanny.status not in (Status.closing, Status.closed, Status.failed):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), _SUPERVISE_SECONDS)
            if not stop.is_set():
                log.warning("render worker %s lost its scheduler (%s): starting it again", name, nanny.status.name)
        except Exception as exc:  # the scheduler is not there (yet): try again
            log.warning("render worker %s could not join %s: %s", name, settings.scheduler, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _SUPERVISE_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await nanny.close()
