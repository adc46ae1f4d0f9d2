"""Quiz jobs running at once through a real daemon share its one render service.

`[workers] render_processes = 2`: while two quiz jobs render, the daemon's process tree never holds more than two
render workers (counted in /proc, workers recycled after a few documents on the way), both jobs finish, and they
take turns at the workers — a job that keeps many documents waiting does not hold back one that keeps few. A job
canceled while it renders leaves the service working for the others.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import moodle_overrides

ATTEMPTS = 12  # per quiz
RENDER_PROCESSES = 2
RENDERED = re.compile(r"rendered attempt (\d+)/(\d+)")


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus two generated courses, each with a quiz of `ATTEMPTS` finished attempts."""
    size = SimulatorSize(courses=2, students=ATTEMPTS, attempts_per_student=1, inprogress=0.0, ungraded=0.0)
    with MoodleSimulator(size=size) as sim:
        yield sim


@pytest.fixture(scope="module")
def quizzes(simulator: MoodleSimulator) -> list[dict[str, int]]:
    """The two generated quizzes as `jobs.create` parameters."""
    generated = sorted(simulator.world.quizzes.values(), key=lambda quiz: quiz.id)[-2:]
    return [{"course_id": quiz.course, "cmid": quiz.cmid} for quiz in generated]


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, tmp_path_factory):
    """A daemon with two render processes that each serve 3 documents before they are replaced."""
    root = tmp_path_factory.mktemp("render-sharing")
    config = write_config(
        root,
        **moodle_overrides(root, simulator),
        **{"workers.render_processes": RENDER_PROCESSES, "workers.max_tasks_per_child": 3},
    )
    process = DaemonProcess(config, root)
    process.start(timeout=60)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


# -- the daemon's process tree --------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def render_workers(daemon_pid: int) -> list[int]:
    """The live render workers of the daemon: the children of its multiprocessing fork server (not zombies)."""
    parents: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    fork_servers = set()
    for pid, (_state, parent) in parents.items():
        if parent == daemon_pid:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in command:
                fork_servers.add(pid)
    return [pid for pid, (state, parent) in parents.items() if parent in fork_servers and state != "Z"]


class WorkerCounter:
    """Counts the daemon's render workers in a thread, as often as it can, until stopped; keeps the peak."""

    def __init__(self, daemon_pid: int) -> None:
        self.daemon_pid = daemon_pid
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, len(render_workers(self.daemon_pid)))
            self.samples += 1
            self._stop.wait(0.005)


# -- helpers ------------------------------------------------------------------------------------------------


async def create(client: Any, quiz: dict[str, int], **settings: Any) -> str:
    """A quiz job, created as an operator would."""
    answer = await client.call("jobs.create", {**quiz, "driver": "quiz", "settings": settings})
    return str(answer["job"]["id"])


async def rendered_counts(client: Any, job_ids: list[str], until: set[str]) -> list[dict[str, int]]:
    """Follow progress events until every job in `until` ended: after each event, how many attempts each job has
    rendered so far."""
    counts = dict.fromkeys(job_ids, 0)
    history: list[dict[str, int]] = []
    ended: set[str] = set()
    async for event in client.events():
        job_id = str(event.get("job_id"))
        if job_id not in counts:
            continue
        if event["kind"] == "job.progress" and (match := RENDERED.search(event["data"]["text"])):
            counts[job_id] = max(counts[job_id], int(match[1]))
            history.append(dict(counts))
        elif event["kind"] == "job.state" and event["data"]["job"]["state"] in TERMINAL:
            ended.add(job_id)
            if until <= ended:
                return history
    return history


# -- tests ------------------------------------------------------------------------------------------------


async def test_two_jobs_share_the_render_processes_and_take_turns(
    daemon: DaemonProcess, quizzes: list[dict[str, int]]
) -> None:
    """A job with 12 attempts in flight (`fetch_concurrency` 16) and one with 4 (`fetch_concurrency` 2): at most
    two render workers at any time, both complete, and the small job is not served after the big one: when
    either has rendered all its attempts, the other has rendered at least half of its own."""
    assert daemon.process is not None
    async with daemon.client() as client:
        await client.call("events.subscribe", {"kinds": ["job.progress", "job.state"]})
        with WorkerCounter(daemon.process.pid) as workers:
            big = await create(client, quizzes[0], fetch_concurrency=16)
            small = await create(client, quizzes[1], fetch_concurrency=2)
            history = await asyncio.wait_for(rendered_counts(client, [big, small], {big, small}), 300)
        states = {job: (await client.call("jobs.get", {"job_id": job}))["job"]["state"] for job in (big, small)}
    assert states == {big: "completed", small: "completed"}
    assert workers.samples > 10
    assert workers.peak == RENDER_PROCESSES  # never more; and the counting does see them
    first_done = next((counts for counts in history if ATTEMPTS in counts.values()), None)
    assert first_done is not None, history
    assert min(first_done.values()) >= ATTEMPTS // 2, history


async def test_a_canceled_job_leaves_the_render_service_working(
    daemon: DaemonProcess, quizzes: list[dict[str, int]]
) -> None:
    """One job is canceled while both render: the other completes, and a job started afterwards completes too."""
    assert daemon.process is not None
    async with daemon.client() as client:
        await client.call("events.subscribe", {"kinds": ["job.progress", "job.state"]})
        with WorkerCounter(daemon.process.pid) as workers:
            doomed = await create(client, quizzes[0])
            survivor = await create(client, quizzes[1])
            async for event in client.events():  # cancel once the doomed job has rendered an attempt
                if (
                    event.get("job_id") == doomed
                    and event["kind"] == "job.progress"
                    and RENDERED.search(event["data"]["text"])
                ):
                    break
            await client.call("jobs.cancel", {"job_id": doomed})
            canceled = await wait_for_state(client, doomed, TERMINAL, timeout=60)
            finished = await wait_for_state(client, survivor, TERMINAL, timeout=300)
            again = await create(client, quizzes[0])
            after = await wait_for_state(client, again, TERMINAL, timeout=300)
        status = await client.call("daemon.status", {})
    assert (canceled["state"], finished["state"], after["state"]) == ("canceled", "completed", "completed")
    assert workers.peak <= RENDER_PROCESSES
    render = status["render"]
    assert render["processes"] == RENDER_PROCESSES and render["workers_alive"] <= RENDER_PROCESSES
    assert render["failures"] == 0 and render["tasks"] >= 2 * ATTEMPTS
