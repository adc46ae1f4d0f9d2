"""The render cluster going away under running jobs, and daemons sharing one cluster.

Each test has its own `dask scheduler` and `archived render-worker` on loopback, because each breaks it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from archived.errors import RecoverableError
from archived_render.dask_pool import ClusterSettings, ClusterUnavailable, DaskRenderPool
from archived_render.render_pool import RenderTimeout
from archived_render.render_task import RenderOptions, RenderTask
from tests.support.render_cluster import RenderCluster, wait_for_workers

# Not marked `render`: what these test is the orchestration, not WeasyPrint's rendering path (scripts/test runs `render`
# tests twice).
pytestmark = pytest.mark.timeout(180)

HTML = "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>Attempt 9</p></body></html>"
OPTIONS = RenderOptions(identifier="attempt-9", created="2024-05-01T10:00:00Z")


def _task(task_id: str, sleep: float = 0.0) -> RenderTask:
    return RenderTask(task_id, HTML, options=OPTIONS, debug_sleep=sleep)


async def _cluster(folder: Path, processes: int = 1) -> RenderCluster:
    cluster = RenderCluster(folder)
    cluster.start_scheduler()
    cluster.start_host("outage", processes)
    await wait_for_workers(cluster.address, processes)
    return cluster


async def test_renders_waiting_when_the_workers_leave_fail_retryably(tmp_path: Path) -> None:
    """Every render host stops while renders wait for a slot: after the connect timeout they fail as
    `render_cluster_unavailable` (the job is tried again later) instead of waiting for ever, and so does the render
    that was running, instead of waiting for its render timeout."""
    cluster = await _cluster(tmp_path)
    pool = DaskRenderPool(ClusterSettings(cluster.address, connect_timeout_seconds=2), timeout=60, retries=0)
    try:
        assert await pool.ready() is None
        busy = asyncio.ensure_future(pool.render(_task("attempt 1", sleep=30)))  # holds the one slot
        await asyncio.sleep(1)
        waiting = [asyncio.ensure_future(pool.render(_task(f"attempt {n}"))) for n in (2, 3)]
        await asyncio.sleep(0.5)
        host = cluster.hosts.pop()
        os.killpg(host.pid, signal.SIGKILL)
        host.wait(10)
        results = await asyncio.wait_for(asyncio.gather(busy, *waiting, return_exceptions=True), 60)
        for result in results:  # the one that was rendering too: no worker is left to run it again
            assert isinstance(result, ClusterUnavailable) and isinstance(result, RecoverableError), result
    finally:
        await pool.close()
        cluster.stop()


async def test_a_scheduler_that_restarts_costs_a_retry_not_the_job(tmp_path: Path) -> None:
    """The scheduler stops while renders wait: they fail retryably (never as a generic error that would fail the job
    for good); once it is back, the same pool renders again."""
    cluster = await _cluster(tmp_path)
    pool = DaskRenderPool(ClusterSettings(cluster.address, connect_timeout_seconds=2), timeout=60, retries=0)
    try:
        assert await pool.ready() is None
        busy = asyncio.ensure_future(pool.render(_task("attempt 1", sleep=5)))
        await asyncio.sleep(1)
        waiting = asyncio.ensure_future(pool.render(_task("attempt 2")))
        await asyncio.sleep(0.3)
        assert cluster.scheduler is not None
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        cluster.scheduler.wait(10)
        results = await asyncio.wait_for(asyncio.gather(busy, waiting, return_exceptions=True), 90)
        for result in results:
            assert isinstance(result, ClusterUnavailable), result

        cluster.start_scheduler()  # same port: the render host and the daemon find it again
        await wait_for_workers(cluster.address, 1)
        for _ in range(60):
            if await pool.ready() is None:
                break
            await asyncio.sleep(1)
        assert (await pool.render(_task("attempt 3"))).pages == 1
    finally:
        await pool.close()
        cluster.stop()


async def test_a_timeout_does_not_restart_a_worker_busy_with_another_daemons_render(tmp_path: Path) -> None:
    """Two daemons share one worker: A's task queues behind B's and runs over A's timeout. A cancels its task but
    leaves the worker alone — B's render finishes on the same process."""
    from distributed import Client

    cluster = await _cluster(tmp_path)
    daemon_a = DaskRenderPool(ClusterSettings(cluster.address), timeout=2, retries=0)
    daemon_b = DaskRenderPool(ClusterSettings(cluster.address), timeout=60, retries=0)
    try:
        assert await daemon_a.ready() is None and await daemon_b.ready() is None
        async with Client(cluster.address, asynchronous=True, set_as_default=False) as client:
            before = await client.run(os.getpid)
            rendering = asyncio.ensure_future(daemon_b.render(_task("b's attempt", sleep=6)))
            await asyncio.sleep(1)
            with pytest.raises(RenderTimeout):
                await daemon_a.render(_task("a's attempt"))
            result = await rendering
            assert result.tries == 1 and result.pages == 1
            assert await client.run(os.getpid) == before  # nobody restarted the worker
    finally:
        await daemon_a.close()
        await daemon_b.close()
        cluster.stop()
