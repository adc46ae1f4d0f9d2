"""Benchmark: archive a quiz end to end — simulator over HTTP → daemon → render workers → local storage.

Method: the Moodle simulator (in this process) gets one generated course whose quiz is shaped like the
reference site's exam (11 questions of 9 types, TeX, an image, an essay) with N finished attempts (one per
student). A real daemon process (2 render workers by default, no request rate limit) archives it through the
socket, exactly as an operator's `jobs create` would. Measured: wall time from job creation to `completed`,
attempts per second, the time of each stage (from the job's timeline) and of each quarter of the rendering
stage's progress (equal quarters: the speed does not drop as the job goes on), the peak PSS of the daemon's whole
process tree (daemon, render workers, their fork server, the MathJax Node process), sampled every 0.2 s, and
the PSS of each kind of process when each quarter was reached (a process that grows with the number of
attempts shows here; render workers are summed), and the CPU time of the whole tree per attempt (workers that
ended included; it depends less on what else the host runs than the wall time does).
The reference site's review showed no response history; the simulator adds a history table to every question
unless told otherwise, so both variants are measured.
With `--jobs N`, N such quizzes (one course each) are archived at the same time by one daemon, sharing its render
workers: the numbers are for all of them together (attempts/s over every attempt), plus each job's own time
from creation to `completed` (equal times: the jobs took turns at the workers; quarters and stage times are the
first job's).
With `--render-hosts N`, the daemon renders on a Dask cluster on this machine (`[workers] backend = "dask"`): a
`dask scheduler` and one `archived render-worker` with N processes. The daemon's tree then holds only the daemon
and MathJax, so its CPU per attempt is what one daemon spends to feed render hosts (the Moodle client, the report
HTML, the orchestration, writing); the hosts' CPU per attempt is reported beside it.

Usage: python bench/e2e.py [--attempts 100,250,500] [--workers 2] [--history on|off|both] [--jobs 1]
       python bench/e2e.py --attempts 200 --history off --render-hosts 2
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archived.rpc.client import RpcClient  # noqa: E402
from archived.simulator.simulator import MoodleSimulator  # noqa: E402
from archived.simulator.size import SimulatorSize  # noqa: E402
from bench.process_tree import PeakSampler, pss_by_role_mib, tree_cpu_seconds  # noqa: E402
from tests.support.render_cluster import RenderCluster, wait_for_workers  # noqa: E402


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def archive_once(
    attempts: int, workers: int, history: bool = True, jobs: int = 1, render_hosts: int = 0
) -> dict[str, object]:
    size = SimulatorSize(courses=jobs, students=attempts, attempts_per_student=1, inprogress=0.0)
    with MoodleSimulator(seed=7, size=size) as sim, tempfile.TemporaryDirectory(prefix="archived-e2e-") as tmp:
        root = Path(tmp)
        quizzes = sorted(sim.world.quizzes.values(), key=lambda q: q.id)[-jobs:]  # the generated ones
        for quiz in quizzes:
            quiz.review_history = history  # the reference site's review showed no response history
        token = root / "token"
        token.write_text(sim.token)
        token.chmod(0o600)
        config = root / "archived.toml"
        cluster = None
        render = f"[workers]\nrender_processes = {workers}\n"
        if render_hosts:
            cluster = RenderCluster(root / "cluster")
            cluster.folder.mkdir()
            cluster.start_scheduler()
            cluster.start_host("bench", processes=render_hosts)
            await wait_for_workers(cluster.address, render_hosts, timeout=180)
            render += f'backend = "dask"\n[workers.dask]\nscheduler = "{cluster.address}"\n'
        config.write_text(
            f'[daemon]\nstate_dir = "{root / "state"}"\nsocket = "{root / "s.sock"}"\nlog_level = "warning"\n'
            + render
            + f'[moodle]\nurl = "{sim.url}"\ntoken_file = "{token}"\nrequests_per_second = 0\n'
            f"max_concurrent_requests = 8\noverview_refresh_minutes = 0\n"
            f'[storage.local]\ndriver = "local"\npath = "{root / "archive"}"\n'
        )
        daemon = subprocess.Popen([sys.executable, "-m", "archived", "daemon", "--config", str(config)], cwd=REPO)
        try:
            for _ in range(400):
                if (root / "s.sock").exists():
                    break
                await asyncio.sleep(0.05)
            async with RpcClient(root / "s.sock", client_name="bench") as client, PeakSampler(daemon.pid) as memory:
                started = time.perf_counter()
                cpu_at_start = await asyncio.to_thread(tree_cpu_seconds, daemon.pid)
                hosts_at_start = tree_cpu_seconds(cluster.hosts[0].pid) if cluster else 0.0
                job_ids = []
                for quiz in quizzes:
                    answer = await client.call(
                        "jobs.create", {"course_id": quiz.course, "cmid": quiz.cmid, "driver": "quiz"}
                    )
                    job_ids.append(answer["job"]["id"])
                job_id = job_ids[0]
                # When the first job's rendering stage (0–80 % of a job's progress) first reached 25, 50, 75, 100 %.
                quarters: list[float] = []
                memory_at_quarters: list[dict[str, float]] = []
                ended: dict[str, dict[str, object]] = {}
                ended_after: dict[str, float] = {}
                while len(ended) < len(job_ids):
                    for each in job_ids:
                        if each in ended:
                            continue
                        job = (await client.call("jobs.get", {"job_id": each}))["job"]
                        while each == job_id and len(quarters) < 4 and job["progress"] >= 20 * (len(quarters) + 1):
                            quarters.append(time.perf_counter() - started)
                            memory_at_quarters.append(await asyncio.to_thread(pss_by_role_mib, daemon.pid))
                        if job["state"] in ("completed", "failed", "canceled", "timed_out"):
                            ended[each] = job
                            ended_after[each] = time.perf_counter() - started
                    await asyncio.sleep(0.2)
                elapsed = time.perf_counter() - started
                cpu = await asyncio.to_thread(tree_cpu_seconds, daemon.pid) - cpu_at_start
                hosts_cpu = tree_cpu_seconds(cluster.hosts[0].pid) - hosts_at_start if cluster else 0.0
                detail = await client.call("jobs.get", {"job_id": job_id})
        finally:
            daemon.terminate()
            daemon.wait(60)
            if cluster is not None:
                cluster.stop()
    for job in ended.values():
        if job["state"] != "completed":
            raise SystemExit(f"job ended {job['state']}: {job['error_message']}")
    stages: dict[str, float] = {}
    timeline = detail["timeline"]
    for step, following in itertools.pairwise(timeline):
        if step["to"] in ("activity_archiving", "post_processing", "store"):
            stages[step["to"]] = round(_ts(following["at"]) - _ts(step["at"]), 1)
    archive = detail["artifacts"][0]
    return {
        "attempts": attempts,
        "workers": workers,
        "history": history,
        "jobs": jobs,
        "seconds": round(elapsed, 1),
        "job_seconds": [round(ended_after[each], 1) for each in job_ids],
        "attempts_per_second": round(attempts * jobs / elapsed, 2),
        # CPU time of the daemon's whole tree (workers that ended included) per attempt: what the load of the
        # shared host changes least.
        "cpu_ms_per_attempt": round(1000 * cpu / (attempts * jobs), 1),
        "render_hosts": render_hosts,
        "hosts_cpu_ms_per_attempt": round(1000 * hosts_cpu / (attempts * jobs), 1),
        "stage_seconds": stages,
        # Seconds each quarter of the rendering took (the first includes listing the attempts and starting the
        # workers): equal later quarters = the speed does not drop as the job goes on.
        "quarter_seconds": [round(b - a, 1) for a, b in itertools.pairwise([0.0, *quarters])],
        "peak_pss_mib": round(memory.peak_kib / 1024, 1),
        "pss_mib_at_quarters": memory_at_quarters,
        "archive_mib": round(archive["size"] / 2**20, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", default="500", help="comma-separated attempt counts, e.g. 100,250,500")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--history", choices=["on", "off", "both"], default="both",
        help="response history in the review HTML (the reference site's review had none; the simulator adds it)",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="quizzes archived at the same time, one job each")
    parser.add_argument("--render-hosts", type=int, default=0, help="render on a Dask cluster with N processes")
    args = parser.parse_args()
    variants = {"on": [True], "off": [False], "both": [False, True]}[args.history]
    for count in (int(n) for n in args.attempts.split(",")):
        for history in variants:
            result = await archive_once(count, args.workers, history, args.jobs, args.render_hosts)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
