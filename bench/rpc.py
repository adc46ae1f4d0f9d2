"""Benchmark: the control socket under load — `jobs.list` with 10,000 jobs in the store and 20 concurrent clients.

Method: a fresh store is filled with 10,000 completed jobs (written through the store API, as the daemon would),
a real daemon process is started on it, then 20 clients connect over the Unix socket and each sends `jobs.list`
(the default page of 100 jobs, newest first, with the total count) back to back for a fixed number of calls.
With `--writes-per-second N`, a writer beside the daemon changes one job's progress N times a second meanwhile
(as running jobs do), so that answers kept until the store changes are read again.
With `--processes N`, the clients are spread over N processes of their own (20 real clients, such as TUIs, are
20 processes; `--processes 1`, the default, runs them all on this process's one event loop, where each call waits
behind the decoding of the other clients' answers). With `--gc-freeze`, each client process calls `gc.freeze()` once
its clients are connected: the cyclic garbage collector stops walking the objects its imports made, which it
otherwise does in full now and then while answers come in (a pause of every call in flight in that process).
Printed: requests per second over all clients, p50/p90/p99 latency of single calls, and the CPU time per call of
the daemon (its user + system time while the clients ran, over the number of calls) and of the clients (the
processes running them: sending, reading and parsing the answers).
Usage: python bench/rpc.py [--jobs 10000] [--clients 20] [--calls 100] [--limit 100] [--writes-per-second 0]
                           [--processes 1] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archived.protocol.states import JobState  # noqa: E402
from archived.rpc.client import RpcClient  # noqa: E402
from archived.store.database import Database  # noqa: E402
from archived.store.jobs import JobStore  # noqa: E402
from archived.store.records import Initiator, JobRecord  # noqa: E402


async def fill_store(path: Path, count: int) -> None:
    """`count` jobs through the store API, then marked completed in one statement (fast to set up)."""
    db = await Database.open(path)
    store = JobStore(db)
    now = time.time() - count
    for index in range(count):
        job = JobRecord(
            id=str(uuid.UUID(int=index + 1)), driver="quiz", course_id=2 + index % 50, cmid=100 + index % 400,
            initiator=Initiator("schedule", "nightly"), settings={"job": {}, "activity": {"paper_format": "A4"}},
            state=JobState.QUEUED, timeout_seconds=7200, created_at=now + index, updated_at=now + index,
            course_name=f"Course {index % 50}", activity_name=f"Exam {index % 400}",
        )  # fmt: skip
        await store.create(job)
    async with db.transaction() as conn:
        await conn.execute("UPDATE jobs SET state = 'completed', progress = 100, finished_at = created_at + 60")
    await db.close()


async def client_loop(client: RpcClient, calls: int, limit: int, latencies: list[float]) -> None:
    for _ in range(calls):
        started = time.perf_counter()
        answer = await client.call("jobs.list", {"limit": limit})
        latencies.append(time.perf_counter() - started)
        assert len(answer["jobs"]) == limit


async def run_clients(
    socket: Path, clients: int, calls: int, limit: int, start: _Signal | None = None, gc_freeze: bool = False
) -> tuple[list[float], float]:
    """`clients` connected clients on this process's event loop calling back to back (after `start` is set, when
    given); returns the latencies and this process's CPU time while they called."""
    connections = [RpcClient(socket, client_name="bench") for _ in range(clients)]
    for client in connections:
        await client.connect()
    if gc_freeze:
        gc.collect()
        gc.freeze()
    if start is not None:
        await asyncio.to_thread(start.wait)
    latencies: list[float] = []
    cpu = -time.process_time()
    try:
        await asyncio.gather(*(client_loop(client, calls, limit, latencies) for client in connections))
    finally:
        cpu += time.process_time()
        for client in connections:
            await client.close()
    return latencies, cpu


def client_process(socket: Path, clients: int, args: argparse.Namespace, ready: Any, start: Any, results: Any) -> None:
    """A process of its own running `clients` clients: says it is connected on `ready`, calls once `start` is
    set, and puts its latencies and CPU time on `results`."""
    signal = _Signal(ready, start)
    results.put(asyncio.run(run_clients(socket, clients, args.calls, args.limit, signal, args.gc_freeze)))


class _Signal:
    """Tells the parent this process is connected, then waits for the start (called from `run_clients`)."""

    def __init__(self, ready: Any, start: Any) -> None:
        self.ready, self.start = ready, start

    def wait(self) -> None:
        self.ready.release()
        self.start.wait()


def run_in_processes(socket: Path, args: argparse.Namespace) -> tuple[list[float], float, float]:
    """The clients spread over `args.processes` processes; returns the latencies, the elapsed time from the start
    (all connected) to the last answer, and the clients' CPU time."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, like separate TUIs
    ready, start, results = context.Semaphore(0), context.Event(), context.Queue()
    shares = [args.clients // args.processes + (i < args.clients % args.processes) for i in range(args.processes)]
    workers = [
        context.Process(target=client_process, args=(socket, n, args, ready, start, results)) for n in shares if n
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    started = time.perf_counter()
    start.set()
    latencies: list[float] = []
    cpu = 0.0
    for _ in workers:
        part, part_cpu = results.get()
        latencies += part
        cpu += part_cpu
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return latencies, elapsed, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_progress(path: Path, per_second: float, stop: threading.Event, done: list[int]) -> None:
    """Change a random job's progress `per_second` times a second until `stop` (in a thread of its own, so that
    the clients' event loop does not delay it); appends how many writes it made to `done`."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    ids = [row[0] for row in conn.execute("SELECT id FROM jobs")]
    writes = 0
    next_at = time.monotonic()
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        conn.execute(
            "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?",
            (random.uniform(0, 100), time.time(), random.choice(ids)),
        )
        writes += 1
        next_at += 1 / per_second
    conn.close()
    done.append(writes)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--writes-per-second", type=float, default=0.0)
    parser.add_argument("--processes", type=int, default=1, help="spread the clients over this many processes")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in each client process once connected")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archived-bench-") as tmp:
        root = Path(tmp)
        state = root / "state"
        started = time.perf_counter()
        await fill_store(state / "archived.sqlite3", args.jobs)
        print(f"store filled with {args.jobs} jobs in {time.perf_counter() - started:.1f} s")
        config = root / "archived.toml"
        config.write_text(
            f'[daemon]\nstate_dir = "{state}"\nsocket = "{root / "s.sock"}"\nlog_level = "warning"\n'
            f'[storage.local]\ndriver = "local"\npath = "{root / "archive"}"\n'
        )
        daemon = subprocess.Popen([sys.executable, "-m", "archived", "daemon", "--config", str(config)], cwd=REPO)
        try:
            for _ in range(200):
                if (root / "s.sock").exists():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            stop, writes = threading.Event(), [0]
            writer = threading.Thread(
                target=write_progress, args=(state / "archived.sqlite3", args.writes_per_second, stop, writes)
            )
            if args.writes_per_second > 0:
                writer.start()
            cpu_before = cpu_seconds(daemon.pid)
            if args.processes > 1:
                latencies, elapsed, clients_cpu = await asyncio.to_thread(run_in_processes, root / "s.sock", args)
            else:
                started = time.perf_counter()
                latencies, clients_cpu = await run_clients(
                    root / "s.sock", args.clients, args.calls, args.limit, gc_freeze=args.gc_freeze
                )
                elapsed = time.perf_counter() - started
            daemon_cpu = cpu_seconds(daemon.pid) - cpu_before
            stop.set()
            if writer.is_alive():
                writer.join()
        finally:
            daemon.terminate()
            daemon.wait(30)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    result = {
        "jobs_in_store": args.jobs,
        "clients": args.clients,
        "client_processes": args.processes,
        "gc_freeze": args.gc_freeze,
        "calls": len(ms),
        "page_size": args.limit,
        "requests_per_second": round(len(ms) / elapsed, 1),
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(ms[int(len(ms) * 0.90) - 1], 2),
        "p99_ms": round(ms[int(len(ms) * 0.99) - 1], 2),
        "daemon_cpu_ms_per_call": round(daemon_cpu * 1000 / len(ms), 3),
        "clients_cpu_ms_per_call": round(clients_cpu * 1000 / len(ms), 3),
        "writes_during_run": writes[-1],
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
