"""Benchmark: the TUI through a failure storm — key-to-screen latency and memory with 10,000 jobs.

Method: a store is filled with 10,000 completed jobs (through the store API), a real daemon process starts on it
(with the test-only `slowtest` driver), and the TUI runs headless in this process (Textual's test driver, 120×40)
on the Jobs screen. Then `--burst` jobs that fail at once are queued from 8 clients; while they fail, a key that
switches the table's state filter (`f`) is pressed every `--interval` seconds, and the time from the press until
the screen has switched (the action done; Textual paints at its next frame) is recorded. Memory is this
process's RSS (`/proc/self/status`): after the first page, the peak sampled every 50 ms, and 12 s after each
storm (after a garbage collection); `--rounds` storms run one after the other, so memory that stays shows. The
TUI and the daemon share the machine's cores, as on a small server.
Printed: key latencies (p50/p90/max), how long until the TUI caught up, the notices shown, and memory.
With `--synthetic N` the daemon is a scripted one (`tests/tui/large_site.py`, 10,000 jobs) that sends N job.failed
events at once: the TUI alone, at a rate no daemon on this machine reaches; keys are pressed for `--watch` s.
Usage: python bench/tui_burst.py [--jobs 10000] [--burst 1000] [--interval 0.25] [--rounds 2] [--synthetic N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "plugins"))

from archived_tui.app import ArchivedApp  # noqa: E402
from archived_tui.screens.jobs import JobsScreen  # noqa: E402
from archived_tui.settings_file import TuiSettings  # noqa: E402
from archived_tui.widgets.job_table import JobTable  # noqa: E402
from tests.support.daemon import DaemonProcess, write_config  # noqa: E402
from tests.tui.busy_site import STORE_FILE, count_jobs, fail_burst, fill_store  # noqa: E402
from tests.tui.conftest import settle, until  # noqa: E402
from tests.tui.large_site import LargeSite  # noqa: E402


def agrees(table: JobTable, total: int) -> bool:
    """Whether the jobs table counts what the daemon counts and shows the rows it has loaded."""
    return table.total == total and table.row_count == len(table.order)


def rss_mib() -> float:
    """This process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(args: argparse.Namespace, root: Path) -> dict[str, object]:
    """Fill, start, storm, measure."""
    started = time.perf_counter()
    await fill_store(root / STORE_FILE, args.jobs)
    filled = time.perf_counter() - started
    config = write_config(root, **{"daemon.max_running_jobs": 16, "daemon.log_level": "warning"})
    daemon = DaemonProcess(config, root)
    daemon.start()
    try:
        app = ArchivedApp(daemon.socket, settings=TuiSettings(timezone="UTC"), initial_mode="jobs")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, JobsScreen)
            table = screen.query_one(JobTable)
            await until(pilot, lambda: table.total == args.jobs, "the jobs", timeout=60)
            gc.collect()
            idle = rss_mib()

            peak = idle
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, rss_mib())
                    await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            latencies: list[float] = []
            rounds: list[dict[str, float]] = []
            for round_number in range(1, args.rounds + 1):
                storm_started = time.perf_counter()
                burst = asyncio.create_task(fail_burst(daemon.socket, args.burst, cmid_base=10_000 * round_number))
                async with daemon.client() as client:
                    while True:
                        failed = await count_jobs(client, states=["failed"])
                        if failed >= args.burst * round_number and burst.done():
                            break
                        before = screen.query_state.state_filter
                        pressed = time.perf_counter()
                        press = asyncio.create_task(pilot.press("f"))  # the next state filter
                        while screen.query_state.state_filter is before:
                            await asyncio.sleep(0.001)
                            if time.perf_counter() - pressed > 120:
                                raise TimeoutError("a key press was not handled within 120 s")
                        latencies.append(time.perf_counter() - pressed)
                        await press
                        await asyncio.sleep(args.interval)
                    failed_at = time.perf_counter() - storm_started
                    total = await count_jobs(client)
                await burst
                while screen.query_state.state_filter.states is not None:  # back to every job
                    await pilot.press("f")
                await until(pilot, partial(agrees, table, total), "caught up", 120)
                caught_up = time.perf_counter() - storm_started
                await pilot.pause(12)  # quiet: the notice's group closes, the app settles
                gc.collect()
                rounds.append({"failed_after_s": round(failed_at, 1), "tui_caught_up_after_s": round(caught_up, 1),
                               "rss_after_mib": round(rss_mib(), 1)})  # fmt: skip
            sampling = False
            await sampler
            notices = [f"{n.title}: {n.message}" for n in app.ending_notices]
            events = app.link.events_received
    finally:
        if daemon.process:
            daemon.process.terminate()
            daemon.process.wait(30)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "jobs_in_store": args.jobs,
        "burst": args.burst,
        "store_filled_s": round(filled, 1),
        "events_received": events,
        "rounds": rounds,
        "key_presses": len(ms),
        "key_p50_ms": round(statistics.median(ms), 1) if ms else None,
        "key_p90_ms": round(ms[max(0, int(len(ms) * 0.9) - 1)], 1) if ms else None,
        "key_max_ms": round(ms[-1], 1) if ms else None,
        "notices": notices,
        "rss_idle_mib": round(idle, 1),
        "rss_peak_mib": round(peak, 1),
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


async def synthetic(args: argparse.Namespace) -> dict[str, object]:
    """The TUI alone: a scripted daemon (`tests/tui/large_site.py`) with 10,000 jobs sends `--synthetic`
    job.failed events at once, as a TUI that fell behind (or a daemon faster than this machine's) would get them."""
    site = LargeSite()
    app = ArchivedApp(Path("/x.sock"), settings=TuiSettings(timezone="UTC"), client_factory=lambda: site,
                      initial_mode="jobs")  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        gc.collect()
        idle = peak = rss_mib()
        started = time.perf_counter()
        for n in range(args.synthetic):
            job = {**site.jobs[n], "state": "failed", "error_code": "moodle_access_denied",
                   "error_message": "Moodle refused the token (HTTP 403)"}  # fmt: skip
            site.queue.put_nowait({"kind": "job.failed", "job_id": job["id"], "at": time.time(), "data": {"job": job}})
        latencies: list[float] = []
        drained = None
        while time.perf_counter() - started < args.watch:  # keys all along, while the TUI works through them
            before = screen.query_state.state_filter
            pressed = time.perf_counter()
            press = asyncio.create_task(pilot.press("f"))
            while screen.query_state.state_filter is before:
                await asyncio.sleep(0.001)
                peak = max(peak, rss_mib())
                if time.perf_counter() - pressed > 300:
                    raise TimeoutError("a key press was not handled within 300 s")
            latencies.append(time.perf_counter() - pressed)
            await press
            peak = max(peak, rss_mib())
            if drained is None and site.queue.empty():
                drained = time.perf_counter() - started
            await asyncio.sleep(args.interval)
        toasts = len(app._notifications)
        await pilot.pause(12)
        gc.collect()
        after = rss_mib()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "synthetic_failures": args.synthetic,
        "events_read_after_s": round(drained, 1) if drained is not None else None,
        "toasts_on_screen_at_the_end": toasts,
        "key_presses": len(ms),
        "key_p50_ms": round(statistics.median(ms), 1) if ms else None,
        "key_p90_ms": round(ms[max(0, int(len(ms) * 0.9) - 1)], 1) if ms else None,
        "key_max_ms": round(ms[-1], 1) if ms else None,
        "rss_idle_mib": round(idle, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(after, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


async def main() -> None:
    """Parse the command line, run once, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between key presses")
    parser.add_argument("--rounds", type=int, default=2, help="storms one after the other (memory that stays?)")
    parser.add_argument("--synthetic", type=int, default=0, help="N failures from a scripted daemon instead")
    parser.add_argument("--watch", type=float, default=30.0, help="--synthetic: seconds of key presses")
    args = parser.parse_args()
    if args.synthetic:
        print(json.dumps(await synthetic(args), indent=2, ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="archived-tui-bench-") as tmp:
        print(json.dumps(await measure(args, Path(tmp)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
