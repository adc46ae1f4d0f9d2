"""Disks that fill up or turn read-only under the engine: the store's folder and the work folder.

Real file systems (a tmpfs filled to the last byte); skipped where mounting is not
allowed (CI runs as root).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from archived.protocol.states import JobState
from archived.store.database import StoreUnwritable
from tests.support.mounts import fill, tmpfs

from .conftest import EngineHarness, make_engine

S = JobState


async def _close(harness: EngineHarness) -> None:
    await harness.close()


async def test_a_full_store_disk_makes_jobs_wait_and_continue_once_it_can_be_written(tmp_path: Path) -> None:
    """Before: the runner died on the first failed write and left the job in a stage with nothing running,
    retry refused, until a restart. Now it waits, `daemon.status` says why, and the job completes."""
    with tmpfs(tmp_path / "state", size="16m") as state:
        harness = await make_engine(tmp_path)
        assert (state / "archived.sqlite3").exists()
        try:
            job = await harness.create(files=40, delay_seconds=0.05)
            await harness.wait(job.id, {"activity_archiving"})
            filler = fill(state)
            deadline = asyncio.get_running_loop().time() + 30
            while harness.store.health()["writable"]:
                assert asyncio.get_running_loop().time() < deadline, "the store's problem was never noticed"
                await asyncio.sleep(0.05)
            health = harness.store.health()
            assert str(state) in health["problem"] and "disk is full" in health["problem"]
            with pytest.raises(StoreUnwritable, match="cannot be written"):
                await harness.create(files=1)
            await asyncio.sleep(1.5)
            assert not (await harness.store.get(job.id)).state.is_terminal
            assert job.id in harness.engine.runner._live, "the job's runner must stay alive while the store is down"
            filler.unlink()
            done = await harness.wait(job.id, {"completed", "failed"}, timeout=60)
            assert done.state is S.COMPLETED
            assert harness.store.health() == {**health, "writable": True, "problem": None, "since": None}
        finally:
            await _close(harness)


async def test_a_full_store_disk_refuses_new_jobs_clearly_and_nothing_is_half_created(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "state", size="4m") as state:
        harness = await make_engine(tmp_path)
        try:
            filler = fill(state)
            errors = []
            for _ in range(200):  # SQLite may reuse free pages for a while; a full disk shows within a few jobs
                try:
                    await harness.create(files=1, file_size=1)
                except StoreUnwritable as exc:
                    errors.append(str(exc))
                    break
            assert errors, "a full disk was never reported"
            assert "disk is full" in errors[0] and str(state) in errors[0]
            filler.unlink()
            job = await harness.create(files=1)
            done = await harness.wait(job.id, {"completed", "failed"}, timeout=60)
            assert done.state is S.COMPLETED
            listed = (await harness.store.list_jobs()).jobs
            for other in listed:
                assert other.state.is_terminal or other.id in harness.engine.runner._live, f"{other.id} has no runner"
        finally:
            await _close(harness)


async def test_a_full_work_folder_is_a_recoverable_disk_error_naming_the_folder(tmp_path: Path) -> None:
    """Before: "unexpected OSError: [Errno 28] No space left on device", no path, no retry."""
    with tmpfs(tmp_path / "state" / "work", size="1m") as work:
        harness = await make_engine(tmp_path)
        try:
            filler = fill(work)
            job = await harness.create(files=2, file_size=4096)
            errored = await harness.wait(job.id, {"recoverable_error", "failed"})
            assert errored.error_code == "disk"
            assert errored.error_recoverable
            assert "no space left in the work folder" in (errored.error_message or "")
            assert str(work) in (errored.error_message or "")
            assert "unexpected" not in (errored.error_message or "")
            filler.unlink()
            done = await harness.wait(job.id, {"completed", "failed"}, timeout=60)
            assert done.state is S.COMPLETED
        finally:
            await _close(harness)
