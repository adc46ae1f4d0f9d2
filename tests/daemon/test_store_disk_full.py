"""A daemon whose store's disk fills up: operators learn it and what to do; jobs wait and finish afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state
from tests.support.mounts import fill, tmpfs


async def test_a_full_store_disk_is_reported_and_jobs_finish_once_space_is_freed(tmp_path: Path) -> None:
    """Before: `jobs create` answered "internal error: OperationalError" and a running job stayed in its stage
    with nothing running, retry refused, until a restart."""
    with tmpfs(tmp_path / "state", size="16m") as state:
        process = DaemonProcess(write_config(tmp_path), tmp_path)
        process.start()
        try:
            async with process.client() as client:
                job_id = await create_job(client, files=30, delay_seconds=0.05)
                await wait_for_state(client, job_id, {"activity_archiving"})
                filler = fill(state)
                refused = None
                for _ in range(50):
                    created = run("jobs", "create", "--course", "2", "--activity", "8", "--driver", "slowtest",
                                  socket=process.socket)  # fmt: skip
                    if created.returncode != 0:
                        refused = created
                        break
                assert refused is not None, "a full store disk was never reported"
                assert "internal error" not in refused.stderr
                assert "cannot be written" in refused.stderr and str(state) in refused.stderr
                status = run("status", socket=process.socket)
                assert "store: cannot be written" in status.stdout and "disk is full" in status.stdout
                health = json.loads(run("status", "--json", socket=process.socket).stdout)["store"]
                assert health["writable"] is False and health["since"]
                filler.unlink()
                job = await wait_for_state(client, job_id, {"completed", "failed"}, timeout=90)
                assert job["state"] == "completed"
                assert "store:" not in run("status", socket=process.socket).stdout
        finally:
            process.kill()
