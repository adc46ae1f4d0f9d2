"""The render service with real worker processes: sessions (jobs) take turns at the workers, never more workers
alive than the limit (also while they are recycled), cancellation keeps the service whole, counters for status."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from archived_render.render_task import RenderOptions, RenderTask
from archived_render.service import RenderLimits, RenderService

HTML = "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>Report {}</p></body></html>"
OPTIONS = RenderOptions(identifier="service-test", created="2024-05-01T10:00:00Z")

pytestmark = pytest.mark.render


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of the live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append((int(entry.name), fields[0]))
    return found


def render_workers() -> int:
    """Render workers of this process: the running children of its multiprocessing fork server."""
    servers = []
    for pid, _state in _children(os.getpid()):
        try:
            if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                servers.append(pid)
        except OSError:
            continue
    return sum(1 for server in servers for _pid, state in _children(server) if state != "Z")


class PeakWorkers:
    """The most render workers alive at once while the block runs (sampled in a thread)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakWorkers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, render_workers())
            self._stop.wait(0.002)


async def test_sessions_take_turns_and_recycled_workers_never_exceed_the_limit() -> None:
    """One process that serves two documents each: three documents of each of two jobs come out alternately,
    and a worker that served its quota is gone before the next one starts."""
    async with RenderService(RenderLimits(processes=1, max_tasks_per_child=2, timeout_seconds=60)) as service:
        first, second = service.session("job a"), service.session("job b")
        await service.pool.warm_up()  # one worker is up; every document below waits for it
        done: list[str] = []

        async def render(session_name: str, number: int) -> None:
            session = first if session_name == "a" else second
            result = await session.render(RenderTask(f"{session_name}{number}", HTML.format(number), options=OPTIONS))
            assert result.pages == 1
            done.append(result.task_id)

        with PeakWorkers() as workers:
            tasks = [asyncio.create_task(render("a", n)) for n in range(3)]
            tasks += [asyncio.create_task(render("b", n)) for n in range(3)]
            await asyncio.gather(*tasks)
        status = service.status()
    assert done == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert workers.peak == 1
    assert (status.tasks, status.workers_started, status.failures, status.waiting) == (6, 3, 0, 0)
    assert status.processes == 1 and status.weasyprint == service.patches.label


async def test_a_render_canceled_while_its_worker_starts_leaves_one_worker() -> None:
    """The job is canceled while the first worker is still starting: that worker is kept for the next document
    instead of living on untracked beside a second one."""
    async with RenderService(RenderLimits(processes=1, timeout_seconds=60)) as service:
        session = service.session("job")
        with PeakWorkers() as workers:
            starting = asyncio.create_task(session.render(RenderTask("canceled", HTML.format(0), options=OPTIONS)))
            for _ in range(10_000):  # until the worker is asked for (forking and warming it up takes a while)
                if service.pool._started:
                    break
                await asyncio.sleep(0)
            assert service.pool.stats.workers_started == 0
            starting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await starting
            result = await session.render(RenderTask("next", HTML.format(1), options=OPTIONS))
        assert result.pages == 1
        assert service.pool.stats.workers_started == 1 and len(service.pool.worker_pids()) == 1
    assert workers.peak == 1


async def test_a_canceled_render_kills_only_its_worker_and_the_service_goes_on() -> None:
    async with RenderService(RenderLimits(processes=2, timeout_seconds=60)) as service:
        doomed, other = service.session("canceled job"), service.session("other job")
        await service.pool.warm_up()
        stuck = asyncio.create_task(doomed.render(RenderTask("stuck", HTML.format(0), options=OPTIONS, debug_sleep=60)))
        for _ in range(1000):  # until the worker has the document
            if service.pool._busy:
                break
            await asyncio.sleep(0.01)
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        results = await asyncio.gather(*(other.render(RenderTask(f"d{n}", HTML.format(n), options=OPTIONS))
                                         for n in range(3)))  # fmt: skip
        status = service.status()
    assert [r.pages for r in results] == [1, 1, 1]
    assert status.tasks == 3 and status.failures == 0 and status.workers_alive <= 2
    assert set(status.to_dict()) >= {"processes", "workers_alive", "tasks", "worker_restarts", "weasyprint"}
