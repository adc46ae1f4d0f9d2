"""Crash safety: SIGKILL the daemon in the middle of each stage and restart it.

After the restart every job reaches a terminal state; no archive is recorded without its bytes in storage
with the recorded checksum; nothing half-written sits where a finished archive belongs; and no job runs
twice at the same time.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from archived.archive.verify import verify_archive
from tests.support.jobs import TERMINAL, create_job, wait_for_state

SLOW_STORAGE = {
    "storage.local.driver": "slowlocal",
    "storage.local.pause_before_publish": 1.0,
    "storage.local.pause_after_publish": 1.0,
}
# About 1.5 s of activity stage, ~45 MB of incompressible payload to pack and verify.
JOB = {"files": 9, "file_size": 5 * 1024 * 1024, "delay_seconds": 0.15}


def check_invariants(root: Path, job_ids: list[str]) -> None:
    """What must hold after any crash and restart."""
    store = sqlite3.connect(root / "state" / "archived.sqlite3")
    archive_dir = root / "archive"
    recorded = store.execute(
        "SELECT l.location, l.sha256, l.size, a.job_id "
        "FROM artifact_locations l JOIN artifacts a ON a.id = l.artifact_id"
    ).fetchall()
    for location, sha256, size, _job in recorded:
        data = (archive_dir / location).read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256, location
    finals = sorted(p for p in archive_dir.iterdir() if p.suffix == ".zip")
    for path in finals:  # every file at a final name is a complete, verified archive that is recorded
        assert verify_archive(path).ok, path
        assert path.name in {row[0] for row in recorded}, f"{path.name} is in storage but not recorded"
    for job_id in job_ids:
        state = store.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
        assert state == "completed", f"job {job_id} ended {state}"
        assert len([r for r in recorded if r[3] == job_id]) == 1
        assert not (root / "state" / "work" / job_id).exists()  # the work folder is gone after completion
        check_no_concurrent_runs((root / "runs" / f"{job_id}.runs.log").read_text().splitlines())
    store.close()


def check_no_concurrent_runs(lines: list[str]) -> None:
    """A run may start only when no earlier run of the same job is still alive (ended, or killed)."""
    open_runs: dict[str, float] = {}
    for line in lines:
        kind, pid, _at = line.split()
        if kind == "start":
            assert all(other != pid for other in open_runs), "the same process started a job twice"
            open_runs[pid] = float(_at)
        else:
            open_runs.pop(pid)


async def kill_during(daemon, job_id: str, stage: str, delay: float) -> None:
    """SIGKILL the daemon `delay` seconds after the job entered `stage`."""
    async with daemon.client() as client:
        await wait_for_state(client, job_id, {stage}, timeout=60)
    await asyncio.sleep(delay)
    daemon.kill()


@pytest.mark.parametrize(
    "stage,delay",
    [
        ("activity_archiving", 0.6),  # mid-way through the payload files
        ("post_processing", 0.3),  # while the ZIP is being written
        ("store", 0.5),  # the temp copy is complete, not yet renamed into place
        ("store", 1.6),  # renamed into place, not yet recorded by the daemon
    ],
)
async def test_sigkill_in_a_stage_then_restart(daemon_factory, tmp_path: Path, stage: str, delay: float) -> None:
    daemon = daemon_factory(**SLOW_STORAGE)
    async with daemon.client() as client:
        job_id = await create_job(client, **JOB)
    await kill_during(daemon, job_id, stage, delay)
    daemon.restart()
    async with daemon.client() as client:
        job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
        assert job["state"] == "completed", job
        detail = await client.call("jobs.get", {"job_id": job_id})
        logs = await client.call("jobs.logs", {"job_id": job_id})
    check_invariants(tmp_path, [job_id])
    assert any("resuming job in state" in entry["message"] for entry in logs["entries"])
    timeline = [step["to"] for step in detail["timeline"]]
    if stage != "activity_archiving":
        # Finished stages are not redone: the activity stage ran exactly once.
        assert timeline.count("activity_archiving") == 1


async def test_repeated_crashes_with_several_jobs(daemon_factory, tmp_path: Path) -> None:
    """Three kills at different moments with three jobs in flight; everything still ends complete."""
    daemon = daemon_factory(**SLOW_STORAGE)
    async with daemon.client() as client:
        job_ids = [await create_job(client, cmid=10 + i, **JOB) for i in range(3)]
    for pause in (1.0, 2.5, 1.7):
        await asyncio.sleep(pause)
        daemon.kill()
        daemon.restart()
    async with daemon.client() as client:
        for job_id in job_ids:
            job = await wait_for_state(client, job_id, TERMINAL, timeout=180)
            assert job["state"] == "completed", job
    check_invariants(tmp_path, job_ids)
