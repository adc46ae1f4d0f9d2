"""A pool of render worker processes behind an asyncio API: `await pool.render(task) -> RenderResult`.

Why not `ProcessPoolExecutor`: it cannot stop a running task, so one stuck render would hold a process for
ever. Here every worker is our own process with its own pipe; a task that exceeds its timeout gets its worker
killed (SIGKILL) and replaced, and the task is tried again up to `retries` times. Workers come from a fork
server that has WeasyPrint imported already (fast start, shared memory pages); each ends after
`max_tasks_per_child` tasks so memory cannot creep. The event loop never blocks: pipe I/O runs in threads.

At most `processes` workers are alive at any time, counting those starting and those ending: a slot is given back
only once its worker has exited (killed, or ended after its quota) or is idle again. Slots go round-robin between
lanes (`render(task, lane=…)`, one lane per job), so jobs sharing the pool get equal turns.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any

from archived.errors import ArchivedError, FatalError, RecoverableError
from archived_render import weasy_patches
from archived_render.fair_slots import FairSlots
from archived_render.render_task import RenderResult, RenderTask
from archived_render.weasy_patches import PatchDecision

log = logging.getLogger(__name__)

_WORKER_MODULE = "archived_render.render_worker"
_READY_TIMEOUT = 120.0


class RenderError(ArchivedError):
    """Rendering one task failed; `task_id` names it (e.g. 'attempt 812'), `cause` says why."""

    code = "render_error"

    def __init__(self, task_id: str, cause: str, *, tries: int = 1) -> None:
        tried = f" after {tries} tries" if tries > 1 else ""
        super().__init__(f"rendering {task_id} failed{tried}: {cause}")
        self.task_id = task_id
        self.cause = cause
        self.tries = tries


class RenderTimeout(RenderError, RecoverableError):
    """The render took longer than the per-task timeout; its worker was killed."""

    code = "render_timeout"


class RenderCrashed(RenderError, RecoverableError):
    """The worker process died while rendering (out of memory, segfault, killed from outside)."""

    code = "render_crashed"


class RenderFailed(RenderError, FatalError):
    """WeasyPrint raised, or the written PDF failed its PDF/A check; retrying the same input will not help."""

    code = "render_failed"


class RenderPoolClosed(RenderError, RecoverableError):
    """The pool was closed while the task waited or ran."""

    code = "render_pool_closed"


@dataclass
class PoolStats:
    """Counters for logs and benchmarks."""

    tasks: int = 0
    failures: int = 0
    retries: int = 0
    timeouts: int = 0
    crashes: int = 0
    workers_started: int = 0
    weasyprint: str = ""  # the rendering path of the last worker started: 'patched', 'stock', 'patched (…)'


class _Worker:
    """One worker process and the parent's end of its pipe. Blocking methods run in threads."""

    def __init__(self, ctx: Any, max_tasks: int, number: int, patches: PatchDecision) -> None:
        from archived_render.render_worker import worker_main

        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=worker_main, args=(child, max_tasks, patches), daemon=True, name=f"archived-render-{number}"
        )
        self.process.start()
        child.close()
        self.max_tasks = max_tasks
        self.done = 0
        kind, in_force = _recv(self.conn, _READY_TIMEOUT)
        if kind != "ready":
            self.kill()
            raise OSError("render worker did not start")
        self.patches: PatchDecision = in_force

    @property
    def pid(self) -> int | None:
        """The worker's process id."""
        pid: int | None = self.process.pid
        return pid

    def roundtrip(self, task: RenderTask) -> tuple[Any, ...]:
        """Send one task and wait for its answer (blocking; run in a thread)."""
        self.conn.send(task)
        answer: tuple[Any, ...] = self.conn.recv()
        self.done += 1
        return answer

    @property
    def exhausted(self) -> bool:
        """The worker has served its quota and is exiting on its own."""
        return self.done >= self.max_tasks

    def kill(self) -> None:
        """Stop the process now, whatever it is doing."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        try:
            if not self.exhausted:
                self.conn.send(None)
        except OSError:
            pass
        self.process.join(5)
        self.kill()


def _recv(conn: Connection, timeout: float) -> tuple[Any, ...]:
    if not conn.poll(timeout):
        raise TimeoutError("no answer from render worker")
    answer: tuple[Any, ...] = conn.recv()
    return answer


class RenderPool:
    """Renders `RenderTask`s to PDF/A in worker processes with per-task timeout and retries."""

    def __init__(
        self,
        processes: int | None = None,
        *,
        max_tasks_per_child: int = 500,  # a worker's memory stays flat over 100s of reports; a restart re-warms
        timeout: float = 120.0,
        retries: int = 2,
        start_method: str = "forkserver",
        weasyprint_patches: bool = True,
    ) -> None:
        # `[workers] weasyprint_patches`; ARCHIVED_WEASYPRINT_PATCHES (read here, in the daemon) wins. Decided
        # once for every worker: a fork server started earlier would not see a later environment.
        self.patches = weasy_patches.decide(weasyprint_patches)
        weasy_patches.log_once(self.patches)
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.max_tasks_per_child = max(1, max_tasks_per_child)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.stats = PoolStats()
        self._ctx = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Only effective before the fork server starts; then every worker shares WeasyPrint's pages.
            self._ctx.set_forkserver_preload([_WORKER_MODULE])
        self._threads = ThreadPoolExecutor(max_workers=self.processes + 1, thread_name_prefix="render-pipe")
        self._slots = FairSlots(self.processes)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._ending: set[asyncio.Task[None]] = set()  # workers being reaped; each still holds its slot
        self._started = 0
        self._closed = False

    async def __aenter__(self) -> RenderPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for memory measurements)."""
        return [w.pid for w in (*self._idle, *self._busy) if w.pid is not None and w.process.is_alive()]

    @property
    def waiting(self) -> int:
        """Tasks waiting for a worker, over all lanes."""
        return self._slots.waiting

    async def warm_up(self) -> None:
        """Start every worker now instead of on first use."""
        workers = [await self._acquire(None) for _ in range(self.processes)]
        for worker in workers:
            self._release(worker)

    async def render(self, task: RenderTask, lane: Hashable = None) -> RenderResult:
        """Render one task; raises RenderTimeout/RenderCrashed/RenderFailed naming the task after retries.

        `lane`: who asks (e.g. a job); waiting tasks of different lanes get workers in turn.
        """
        loop = asyncio.get_running_loop()
        last: RenderError | None = None
        tries = 0
        while tries <= self.retries:
            tries += 1
            if tries > 1:
                self.stats.retries += 1
            worker = await self._acquire(lane)
            try:
                answer = await asyncio.wait_for(
                    loop.run_in_executor(self._threads, worker.roundtrip, task), self.timeout
                )
            except TimeoutError:
                self.stats.timeouts += 1
                await self._discard(worker)
                last = RenderTimeout(task.task_id, f"no result within {self.timeout:g} s; worker killed", tries=tries)
                log.warning("%s", last)
                continue
            except (EOFError, OSError) as exc:
                self.stats.crashes += 1
                code = worker.process.exitcode
                await self._discard(worker)
                cause = f"worker process died (exit code {code})" if code is not None else f"worker pipe broke: {exc}"
                last = RenderCrashed(task.task_id, cause, tries=tries)
                log.warning("%s", last)
                continue
            except asyncio.CancelledError:
                await asyncio.shield(self._discard(worker))  # it is busy with a task nobody waits for
                raise
            self._release(worker)
            kind = answer[0]
            if kind == "ok":
                self.stats.tasks += 1
                result: RenderResult = answer[1]
                return replace(result, tries=tries)
            cause = answer[1]
            if kind == "check":
                cause = f"the PDF failed its PDF/A check: {cause}"
            last = RenderFailed(task.task_id, cause, tries=tries)
            log.warning("%s\n%s", last, answer[2] if len(answer) > 2 else "")
        self.stats.failures += 1
        assert last is not None
        raise last

    async def close(self) -> None:
        """Stop every worker; tasks still waiting get RenderPoolClosed."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        idle, busy = list(self._idle), list(self._busy)
        self._idle.clear()
        self._busy.clear()
        for worker in busy:
            # Its result would go nowhere: stop it now (its task's thread sees the pipe end and reaps it).
            worker.process.kill()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.stop) for w in idle))
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _acquire(self, lane: Hashable) -> _Worker:
        await self._slots.acquire(lane)
        loop = asyncio.get_running_loop()
        if self._closed:
            self._slots.release()
            raise RenderPoolClosed("task", "the render pool is closed")
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive() and not worker.exhausted:
                self._busy.add(worker)
                return worker
            ending = loop.run_in_executor(self._threads, worker.kill)
            try:
                await asyncio.shield(ending)
            except asyncio.CancelledError:
                ending.add_done_callback(lambda _: self._slots.release())  # the slot is free once it is gone
                raise
            except BaseException:
                self._slots.release()
                raise
        self._started += 1
        starting = loop.run_in_executor(
            self._threads, _Worker, self._ctx, self.max_tasks_per_child, self._started, self.patches
        )
        try:
            worker = await asyncio.shield(starting)
        except asyncio.CancelledError:
            # The process starts anyway (in its thread): it keeps the slot until it is up and idle, so that the
            # pool never has more than `processes` workers alive.
            starting.add_done_callback(self._adopt)
            raise
        except BaseException:
            self._slots.release()
            raise
        self.stats.workers_started += 1
        self.stats.weasyprint = worker.patches.label
        log.debug("render worker %s started: WeasyPrint %s", worker.pid, worker.patches.label)
        if worker.patches != self.patches:  # e.g. the patches failed to go in place there
            weasy_patches.log_once(worker.patches)
        self._busy.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        self._busy.discard(worker)
        if self._closed:
            worker.stop()
        elif worker.exhausted:
            # It exits by itself after its last answer; reap it off the loop's thread, and only then let a fresh
            # worker take its slot.
            ending = asyncio.get_running_loop().create_task(self._reap(worker))
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
            return
        else:
            self._idle.append(worker)
        self._slots.release()

    async def _reap(self, worker: _Worker) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, worker.stop)
        finally:
            self._slots.release()

    def _adopt(self, starting: asyncio.Future[_Worker]) -> None:
        """A worker whose caller was canceled while it started: keep it idle, then give its slot back."""
        if not starting.cancelled() and starting.exception() is None:
            worker = starting.result()
            self.stats.workers_started += 1
            if self._closed:
                worker.process.kill()  # its fork server reaps it; no thread is left to join it
                worker.conn.close()
            else:
                self._idle.append(worker)
        self._slots.release()

    async def _discard(self, worker: _Worker) -> None:
        self._busy.discard(worker)
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, worker.kill)
        log.debug("render worker %s killed in %.2f s", worker.pid, time.perf_counter() - started)
        self._slots.release()
