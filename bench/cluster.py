"""Benchmark: rendering on a Dask cluster — what the orchestration carries, real renders, the daemon's CPU.

Every measurement goes through `DaskRenderPool`, the daemon's own path (fair slots sized by the matching workers,
submission, the result, the SHA-256 check of the bytes that travelled and the atomic write), against a real
`dask scheduler` and workers on loopback:

- `stub`: workers that sleep `--sleep` seconds and answer a few bytes (`archived_render.cluster_probe`), served by
  plain `dask worker` processes with the daemon's fingerprint resource, 2/4/8/16 of them (`--stub-workers`):
  tasks/s the scheduler and one daemon can carry, with the ideal (workers / sleep) beside it, and this process's
  CPU per task (the daemon's share of the orchestration).
- `real`: the real 16-question attempt (as bench/render.py `real`) through the whole pipeline on
  `archived render-worker` processes (`--real-workers`, default 1,2), two ways (`--build`): `hosts`, as the quiz
  driver does it with a cluster (the hosts build the report HTML and render it; here only MathJax from its cache,
  the images and the two tasks), and `here` (the HTML built here, only the PDF rendered on the hosts):
  attempts/s and the CPU per attempt of this process (the daemon's share) and of the render hosts.
- `overhead`: one task at a time with no sleep over plain tcp and over mutual TLS (`--tls`): the round-trip a task
  costs beyond its work (median and p90).

This machine has 2 cores: real renders with more than 2 workers measure contention, not scale; the stub's workers
sleep, so they scale past the cores until the scheduler or this process saturates.

Usage: python bench/cluster.py [--only stub,real,overhead] [-n 60] [--stub-workers 2,4,8,16] [--sleep 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archived_quiz.remote_report import ReportInputs, build_and_render, report_needs
from archived_quiz.report import finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render.cluster_probe import probe_on_worker
from archived_render.dask_pool import RESOURCE_PREFIX, ClusterSettings, DaskRenderPool
from archived_render.fingerprint import local_fingerprint
from archived_render.math import MathRenderer
from archived_render.render_task import RenderTask
from bench.process_tree import tree_cpu_seconds
from bench.render import _header, _options, build_task, real_scenario
from tests.support.render_cluster import BIN, RenderCluster, wait_for_workers
from tests.support.tls_certificates import make_tls_files


def _plain_workers(cluster: RenderCluster, count: int) -> subprocess.Popen[bytes]:
    """`count` plain `dask worker` processes (one thread each) with the daemon's fingerprint resource."""
    resource = RESOURCE_PREFIX + local_fingerprint().digest
    log = (cluster.folder / f"plain-{count}.log").open("ab")
    return subprocess.Popen(
        [str(BIN / "dask"), "worker", cluster.address, "--nworkers", str(count), "--nthreads", "1",
         "--resources", f"{resource}=1", "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(10)


async def _through_pool(pool: DaskRenderPool, tasks: list[RenderTask], in_flight: int) -> tuple[float, float]:
    """Send `tasks` with at most `in_flight` at once; (wall seconds, this process's CPU seconds)."""
    gate = asyncio.Semaphore(in_flight)

    async def one(task: RenderTask) -> None:
        async with gate:
            await pool.render(task)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(t) for t in tasks))
    return time.perf_counter() - wall, time.process_time() - cpu


async def stub(folder: Path, worker_counts: list[int], sleep: float, per_worker: int) -> None:
    print(f"\nstub: tasks that sleep {sleep:g} s, {per_worker} per worker, through DaskRenderPool")
    print(f"{'workers':>8} {'tasks/s':>9} {'ideal':>7} {'share':>6} {'daemon CPU/task':>16}")
    for count in worker_counts:
        cluster = RenderCluster(folder / f"stub-{count}")
        cluster.folder.mkdir(parents=True)
        cluster.start_scheduler()
        workers = _plain_workers(cluster, count)
        try:
            await wait_for_workers(cluster.address, count, timeout=180)
            pool = DaskRenderPool(ClusterSettings(cluster.address), task_function=probe_on_worker, timeout=120)
            try:
                assert await pool.ready() is None
                await _through_pool(pool, [RenderTask(f"warm {n}", "") for n in range(count)], count)
                tasks = [RenderTask(f"probe {n}", "", debug_sleep=sleep) for n in range(count * per_worker)]
                wall, cpu = await _through_pool(pool, tasks, count * 2)
            finally:
                await pool.close()
        finally:
            _stop(workers)
            cluster.stop()
        rate, ideal = len(tasks) / wall, count / sleep
        print(f"{count:>8} {rate:>9.1f} {ideal:>7.1f} {rate / ideal:>6.0%} {cpu / len(tasks) * 1000:>13.2f} ms")


async def real(folder: Path, worker_counts: list[int], attempts: int, builds: list[str]) -> None:
    print(f"\nreal: {attempts} reports of the real 16-question attempt; HTML and MathJax here, PDF on the hosts")
    print(f"{'HTML built':>10} {'workers':>8} {'attempts/s':>11} {'daemon CPU/attempt':>19} {'hosts CPU/attempt':>18}")
    math = MathRenderer()
    for build in builds:
        for count in worker_counts:
            where = folder / f"real-{build}-{count}"
            rate, daemon_cpu, hosts_cpu = await _real_once(where, count, attempts, math, on_hosts=build == "hosts")
            print(f"{build:>10} {count:>8} {rate:>11.2f} {daemon_cpu * 1000:>16.1f} ms {hosts_cpu * 1000:>15.0f} ms")
    print(f"(building the HTML alone costs {await _html_cpu(math, attempts) * 1000:.1f} ms per attempt here)")
    await math.close()


async def _real_once(
    folder: Path, count: int, attempts: int, math: MathRenderer, *, on_hosts: bool
) -> tuple[float, float, float]:
    """(attempts/s, this process's CPU seconds per attempt, the render host's CPU seconds per attempt)."""
    scenario, settings = real_scenario(), QuizSettings()
    cluster = RenderCluster(folder)
    folder.mkdir(parents=True)
    cluster.start_scheduler()
    cluster.start_host("bench", processes=count)

    async def build(number: int) -> RenderTask:
        return await build_task(scenario, settings, math, number, folder / f"{number}.pdf")

    try:
        await wait_for_workers(cluster.address, count, timeout=180)
        pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=300)
        try:
            assert await pool.ready() is None
            warm = [await build(-1 - n) for n in range(count)]
            await asyncio.gather(*(pool.render(task) for task in warm))  # MathJax's cache, the workers' first
            hosts_before = tree_cpu_seconds(cluster.hosts[0].pid)
            gate = asyncio.Semaphore(settings.fetch_concurrency + count)  # as many in flight as the quiz driver

            async def one(number: int) -> None:
                async with gate:
                    if on_hosts:
                        await built_on_hosts(number)
                    else:
                        await pool.render(await build(number))

            async def built_on_hosts(number: int) -> None:  # as archived_quiz.attempt_pipeline does it
                inputs = ReportInputs(_header(scenario, number), scenario.questions, settings, "")
                needs, _ = await pool.call(f"attempt {number}", report_needs, inputs, lane=None)
                formulas = await math.render_many(needs.formulas)
                images = {url: scenario.images.get(url) for url in needs.image_urls}
                options = _options(scenario, settings, number)
                task = RenderTask(f"attempt {number}", "", options=options, output_path=folder / f"{number}.pdf")
                built, tries = await pool.call(
                    task.task_id, build_and_render, inputs, formulas, images, replace(task, output_path=None), False
                )
                await pool.keep(task, built.result, tries)

            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(attempts)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            hosts_cpu = tree_cpu_seconds(cluster.hosts[0].pid) - hosts_before
        finally:
            await pool.close()
    finally:
        cluster.stop()
    return attempts / wall, cpu / attempts, hosts_cpu / attempts


async def _html_cpu(math: MathRenderer, attempts: int) -> float:
    """CPU seconds per attempt of building the report HTML alone (prepare, MathJax from its cache, finish)."""
    scenario, settings = real_scenario(), QuizSettings()
    count = min(attempts, 20)
    started = time.process_time()
    for number in range(count):
        prepared = prepare_report(_header(scenario, number), scenario.questions, settings)
        formulas = await math.render_many(prepared.formulas)
        finish_report(prepared, formulas, {url: scenario.images.get(url) for url in prepared.image_urls})
    return (time.process_time() - started) / count


async def overhead(folder: Path, tasks: int) -> None:
    print(f"\noverhead: {tasks} probe tasks one at a time, no sleep (round trip per task)")
    print(f"{'transport':>10} {'median':>9} {'p90':>9} {'daemon CPU/task':>16}")
    pki = make_tls_files(folder / "pki", client_auth=True)
    tls_args = ("--tls-ca-file", str(pki.ca_file), "--tls-cert", str(pki.cert_file), "--tls-key", str(pki.key_file))
    for scheme in ("tcp", "tls"):
        args = tls_args if scheme == "tls" else ()
        cluster = RenderCluster(folder / f"overhead-{scheme}", scheme=scheme, tls_args=args)
        cluster.folder.mkdir(parents=True)
        cluster.start_scheduler()
        settings = (
            ClusterSettings(cluster.address, pki.ca_file, pki.cert_file, pki.key_file)
            if scheme == "tls"
            else ClusterSettings(cluster.address)
        )
        resource = RESOURCE_PREFIX + local_fingerprint().digest
        log = (cluster.folder / "worker.log").open("ab")
        worker = subprocess.Popen(
            [str(BIN / "dask"), "worker", cluster.address, "--nthreads", "1", "--resources", f"{resource}=1",
             "--no-dashboard", "--host", "127.0.0.1", *(cluster.tls_args)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            await wait_for_workers(cluster.address, 1, security=settings.security(), timeout=120)
            pool = DaskRenderPool(settings, task_function=probe_on_worker)
            try:
                assert await pool.ready() is None
                for n in range(20):
                    await pool.render(RenderTask(f"warm {n}", ""))
                times = []
                cpu = time.process_time()
                for n in range(tasks):
                    started = time.perf_counter()
                    await pool.render(RenderTask(f"probe {n}", ""))
                    times.append(time.perf_counter() - started)
                cpu = time.process_time() - cpu
            finally:
                await pool.close()
        finally:
            _stop(worker)
            cluster.stop()
        times.sort()
        p90 = times[int(len(times) * 0.9)]
        print(f"{scheme:>10} {statistics.median(times) * 1000:>6.1f} ms {p90 * 1000:>6.1f} ms "
              f"{cpu / tasks * 1000:>13.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="stub,real,overhead")
    parser.add_argument("-n", type=int, default=60, help="attempts of the real render")
    parser.add_argument("--stub-workers", default="2,4,8,16")
    parser.add_argument("--real-workers", default="1,2")
    parser.add_argument("--build", default="hosts,here", help="where the report HTML is built: hosts, here")
    parser.add_argument("--sleep", type=float, default=0.3, help="seconds each stub task sleeps")
    parser.add_argument("--per-worker", type=int, default=20, help="stub tasks per worker")
    parser.add_argument("--overhead-tasks", type=int, default=200)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; fingerprint {local_fingerprint().digest}")
    with tempfile.TemporaryDirectory(prefix="archived-cluster-bench-") as tmp:
        folder = Path(tmp)
        if "stub" in parts:
            asyncio.run(stub(folder, [int(x) for x in args.stub_workers.split(",")], args.sleep, args.per_worker))
        if "real" in parts:
            asyncio.run(real(folder, [int(x) for x in args.real_workers.split(",")], args.n, args.build.split(",")))
        if "overhead" in parts:
            asyncio.run(overhead(folder, args.overhead_tasks))


if __name__ == "__main__":
    main()
