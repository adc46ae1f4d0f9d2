"""A quiz job through a real daemon that renders on a Dask cluster of real `archived render-worker` processes.

The daemon's own render pool stays idle: every report is rendered on the render host and written by the daemon;
the archive verifies; `archived workers` shows the host's processes as matching. When the scheduler is gone, the
next job fails retryably and waits for its next try (no fallback configured).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archived.simulator.simulator import MoodleSimulator
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.render_cluster import RenderCluster
from tests.support.simulator import archive_payload, moodle_overrides, pdf_text

# Not marked `render`: what these test is the orchestration, not WeasyPrint's rendering path (scripts/test runs `render`
# tests twice).
pytestmark = pytest.mark.timeout(300)

EXAM = {"course_id": 2, "cmid": 2}  # the recorded site's quiz: 9 finished attempts
ARCHIVED = Path(sys.executable).parent / "archived"


@pytest.fixture(scope="module")
def simulator() -> Iterator[MoodleSimulator]:
    with MoodleSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderCluster]:
    render_cluster = RenderCluster(tmp_path_factory.mktemp("cluster"))
    render_cluster.start_scheduler()
    render_cluster.start_host("render", processes=2)
    with render_cluster.joined(2):
        yield render_cluster


@pytest.fixture(scope="module")
def daemon(simulator: MoodleSimulator, cluster: RenderCluster, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dask-daemon")
    config = write_config(
        root,
        **moodle_overrides(root, simulator),
        **{"workers.backend": "dask", "workers.dask.scheduler": cluster.address,
           "workers.dask.connect_timeout_seconds": 2},
    )  # fmt: skip
    process = DaemonProcess(config, root)
    process.start(timeout=60)
    yield process
    if process.process and process.process.poll() is None:
        process.terminate()


def _cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARCHIVED), "--socket", str(daemon.socket), *args], capture_output=True, text=True, timeout=60
    )


async def _run_job(daemon: DaemonProcess) -> dict[str, Any]:
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**EXAM, "settings": {}})
        job_id = str(answer["job"]["id"])
        await wait_for_state(client, job_id, TERMINAL, timeout=240)
        detail: dict[str, Any] = await client.call("jobs.get", {"job_id": job_id})
        return detail


async def test_the_hosts_show_before_the_first_job(daemon: DaemonProcess) -> None:
    """The daemon connects at its start, so an operator sees the hosts (and a host that does not match) before an
    exam needs them."""
    async with daemon.client() as client:
        for _ in range(100):
            cluster = (await client.call("daemon.status", {}))["render"]["cluster"]
            if cluster["connected"] and len(cluster["hosts"]) == 2:
                break
            await asyncio.sleep(0.2)
    assert cluster["connected"] and [h["matches"] for h in cluster["hosts"]] == [True, True], cluster
    assert {h["name"] for h in cluster["hosts"]} == {"render-1", "render-2"}


async def test_a_quiz_job_renders_on_the_render_host(daemon: DaemonProcess, tmp_path: Path) -> None:
    detail = await _run_job(daemon)
    assert detail["job"]["state"] == "completed", daemon.log()
    async with daemon.client() as client:
        render = (await client.call("daemon.status", {}))["render"]
    assert render["backend"] == "dask"
    assert render["tasks"] == 9 and render["workers_started"] == 0  # nothing rendered by the local pool
    cluster = render["cluster"]
    assert cluster["connected"] and len(cluster["hosts"]) == 2
    assert all(h["matches"] for h in cluster["hosts"])

    locations = [loc["location"] for artifact in detail["artifacts"] for loc in artifact["locations"]]
    archive = daemon.root / "archive" / locations[0]
    verified = subprocess.run([str(ARCHIVED), "verify", str(archive), "--json"], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    reports = sorted((archive_payload(archive, tmp_path) / "attempts").rglob("attempt-*.pdf"))
    assert len(reports) == 9 and all("Final exam" in pdf_text(pdf) for pdf in reports)

    logs = _cli(daemon, "jobs", "logs", detail["job"]["id"])
    assert "reports are built and rendered on the render hosts of tcp://127.0.0.1:" in logs.stdout, logs.stdout

    shown = _cli(daemon, "workers")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "render-1" in shown.stdout and "render-2" in shown.stdout and "connected" in shown.stdout
    as_json = json.loads(_cli(daemon, "workers", "--json").stdout)
    assert as_json["cluster"]["fingerprint"] and as_json["backend"] == "dask"


async def test_html_built_in_the_daemon_when_told(
    simulator: MoodleSimulator, cluster: RenderCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`html_on_hosts = false`: the daemon builds the HTML and the hosts only render (few hosts, a daemon with CPU
    to spare)."""
    root = tmp_path_factory.mktemp("dask-daemon-html-here")
    config = write_config(
        root,
        **moodle_overrides(root, simulator),
        **{"workers.backend": "dask", "workers.dask.scheduler": cluster.address,
           "workers.dask.html_on_hosts": False},
    )  # fmt: skip
    process = DaemonProcess(config, root)
    process.start(timeout=60)
    try:
        detail = await _run_job(process)
        assert detail["job"]["state"] == "completed", process.log()
        async with process.client() as client:
            render = (await client.call("daemon.status", {}))["render"]
        assert render["tasks"] == 9 and render["workers_started"] == 0
        logs = _cli(process, "jobs", "logs", detail["job"]["id"])
        assert "rendered on the render hosts" not in logs.stdout and "attempt" in logs.stdout
    finally:
        process.terminate()


async def test_without_the_scheduler_a_job_is_retried(daemon: DaemonProcess, cluster: RenderCluster) -> None:
    cluster.stop()
    async with daemon.client() as client:
        answer = await client.call("jobs.create", {**EXAM, "settings": {}})
        job_id = str(answer["job"]["id"])
        for _ in range(600):  # until its first try failed and it waits for the next (or, fast, failed for good)
            job = (await client.call("jobs.get", {"job_id": job_id}))["job"]
            if job["retries"] >= 1 or job["state"] in TERMINAL:
                break
            await asyncio.sleep(0.1)
        await client.call("jobs.cancel", {"job_id": job_id})
    assert job["error_code"] == "render_cluster_unavailable" and job["retries"] >= 1, job  # retryable
    assert "render scheduler" in job["error_message"] or "render cluster" in job["error_message"], job
    shown = _cli(daemon, "workers")
    assert shown.returncode == 1 and "not connected" in shown.stdout
