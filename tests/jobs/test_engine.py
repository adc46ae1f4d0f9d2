"""The job engine, in process: the whole life of jobs, errors, retries, timeouts, cancel, retry, delete."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

import pytest

from archived.archive.verify import verify_archive
from archived.jobs.engine import InvalidJobState, ShuttingDown, UnknownJob
from archived.jobs.settings import InvalidSetting
from archived.protocol.jobs import JobFilter
from archived.protocol.states import JobState

from .conftest import OPERATOR, EngineHarness, make_engine

S = JobState


async def test_a_job_runs_through_every_stage_and_stores_a_verified_archive(harness: EngineHarness) -> None:
    events = harness.bus.subscribe(kinds=["job.state"])
    job = await harness.create(files=4)
    done = await harness.wait(job.id, {"completed"})
    assert done.progress == 100.0
    timeline = [t.to_state for t in await harness.store.timeline(job.id)]
    assert timeline == [S.QUEUED, S.ACTIVITY_ARCHIVING, S.POST_PROCESSING, S.STORE, S.CLEANUP, S.COMPLETED]
    assert await harness.events.flush(10)
    seen = []
    while events.pending():
        seen.append((await events.get()).data["job"]["state"])
    assert seen == ["activity_archiving", "post_processing", "store", "cleanup", "completed"]
    [artifact] = await harness.store.artifacts(job.id)
    [location] = artifact.locations
    stored = harness.archive_dir / location.location
    assert verify_archive(stored).ok
    names = zipfile.ZipFile(stored).namelist()
    assert sum(1 for n in names if "/data/files/" in n) == 4
    assert any(n.endswith("/data/job.json") for n in names)
    assert not (harness.root / "state" / "work" / job.id).exists()  # cleanup removed the work folder


async def test_recoverable_errors_are_retried_with_backoff(harness: EngineHarness) -> None:
    job = await harness.create(fail_times=2)
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.COMPLETED
    timeline = [t.to_state for t in await harness.store.timeline(job.id)]
    assert timeline.count(S.RECOVERABLE_ERROR) == 2
    assert timeline.count(S.ERROR) == 2
    logs = [e.message for e in await harness.store.logs(job.id, limit=100)]
    assert any("retry 2/2" in m for m in logs)


async def test_retries_are_bounded(harness: EngineHarness) -> None:
    job = await harness.create(fail_times=10)
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.FAILED
    assert done.retries == 2
    assert done.failed_stage is S.ACTIVITY_ARCHIVING
    timeline = [t.to_state for t in await harness.store.timeline(job.id)]
    assert timeline[-4:] == [S.FAILURE, S.ERROR_HANDLING, S.CLEANUP, S.FAILED]


async def test_a_fatal_error_fails_at_once_and_secrets_are_redacted(harness: EngineHarness) -> None:
    job = await harness.create(fatal=True, secret_in_error="token=s3cr3t-t0ken")
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.FAILED
    assert done.retries == 0
    assert done.error_code == "fatal"
    assert "s3cr3t-t0ken" not in (done.error_message or "")
    assert "token=***" in (done.error_message or "")
    for entry in await harness.store.logs(job.id, limit=1000):
        assert "s3cr3t-t0ken" not in entry.message


async def test_timeout_is_its_own_end_state(tmp_path: Path) -> None:
    h = await make_engine(tmp_path, job_timeout_minutes=0.5 / 60)
    try:
        job = await h.create(files=100, delay_seconds=0.05)
        done = await h.wait(job.id, {"timed_out", "failed", "completed"})
        assert done.state is S.TIMED_OUT
        assert done.outcome and done.outcome.value == "timed_out"
    finally:
        await h.close()


async def test_cancel_a_running_job(harness: EngineHarness) -> None:
    job = await harness.create(files=200, delay_seconds=0.02)
    await harness.wait(job.id, {"activity_archiving"})
    canceled = await harness.engine.cancel(job.id, by=OPERATOR)
    assert canceled.state is S.CANCELED
    with pytest.raises(InvalidJobState, match="already ended"):
        await harness.engine.cancel(job.id, by=OPERATOR)


async def test_cancel_a_queued_job(tmp_path: Path) -> None:
    h = await make_engine(tmp_path, max_running_jobs=1)
    try:
        first = await h.create(files=100, delay_seconds=0.02)
        second = await h.create(files=1)
        await h.wait(first.id, {"activity_archiving"})
        assert (await h.store.get(second.id)).state is S.QUEUED
        assert (await h.engine.cancel(second.id, by=OPERATOR)).state is S.CANCELED
        assert h.runs(second.id) == []
    finally:
        await h.close()


async def test_concurrency_limit(tmp_path: Path) -> None:
    h = await make_engine(tmp_path, max_running_jobs=2)
    try:
        jobs = [await h.create(files=5, delay_seconds=0.05) for _ in range(5)]
        peak = 0
        while True:
            peak = max(peak, h.engine.running_count())
            states = [(await h.store.get(j.id)).state for j in jobs]
            if all(s.is_terminal for s in states):
                break
            await asyncio.sleep(0.01)
        assert peak == 2
        assert all(s is S.COMPLETED for s in states)
    finally:
        await h.close()


async def test_retry_resumes_at_the_failed_stage(harness: EngineHarness) -> None:
    harness.fail_file.write_text("down")  # the storage target is out for longer than the retries
    job = await harness.create(files=3)
    failed = await harness.wait(job.id, {"failed", "completed"})
    assert failed.state is S.FAILED and failed.failed_stage is S.STORE
    assert failed.error_code == "storage_unavailable"
    assert len([r for r in harness.runs(job.id) if r.startswith("start")]) == 1
    harness.fail_file.unlink()
    await harness.engine.retry(job.id, by=OPERATOR)
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.COMPLETED
    # The activity stage was not redone: its output was intact.
    assert len(await asyncio.to_thread(lambda: list(harness.archive_dir.iterdir()))) == 1
    timeline = await harness.store.timeline(job.id)
    after_retry = [t.to_state for t in timeline[[t.from_state for t in timeline].index(S.FAILED) :]]
    assert after_retry == [S.QUEUED, S.STORE, S.CLEANUP, S.COMPLETED]


async def test_retry_refused_for_running_or_completed_jobs(harness: EngineHarness) -> None:
    job = await harness.create(files=1)
    await harness.wait(job.id, {"completed"})
    with pytest.raises(InvalidJobState, match="only failed, canceled or timed-out"):
        await harness.engine.retry(job.id, by=OPERATOR)


async def test_delete_respects_retention_unless_forced(harness: EngineHarness) -> None:
    job = await harness.create(files=1)
    await harness.wait(job.id, {"completed"})
    with pytest.raises(InvalidJobState, match="retained until"):
        await harness.engine.delete(job.id, by=OPERATOR)
    deleted_job, deleted = await harness.engine.delete(job.id, by=OPERATOR, force=True)
    assert len(deleted) == 1 and deleted[0].startswith("local:")
    assert list(harness.archive_dir.iterdir()) == []
    assert deleted_job.deleted_at is not None
    [artifact] = await harness.store.artifacts(job.id)
    assert artifact.locations[0].deleted_at is not None  # the record stays as evidence
    assert (await harness.store.list_jobs()).total == 0
    assert (await harness.store.list_jobs(JobFilter(include_deleted=True))).total == 1


async def test_locked_settings_are_forced_and_logged(tmp_path: Path) -> None:
    h = await make_engine(tmp_path, presets={"slowtest": {"flavour": "site", "locked": ["flavour"]}})
    try:
        job, forced = await h.engine.create_job(
            driver="slowtest", course_id=2, cmid=7, requested={"flavour": "mine"}, initiator=OPERATOR
        )
        assert forced == ["flavour"]
        assert job.settings["activity"]["flavour"] == "site"
        assert job.settings["job"]["retention_years"] == 3
        logs = [e.message for e in await h.store.logs(job.id)]
        assert any("flavour is locked" in m for m in logs)
    finally:
        await h.close()


async def test_invalid_requests(harness: EngineHarness) -> None:
    with pytest.raises(InvalidSetting, match="setting files"):
        await harness.create(files="lots")
    with pytest.raises(InvalidSetting, match="unknown target"):
        await harness.create(storage_targets=["nowhere"])
    with pytest.raises(InvalidSetting, match="unknown activity driver 'forum'"):
        await harness.engine.create_job(driver="forum", course_id=1, cmid=1, requested={}, initiator=OPERATOR)
    with pytest.raises(UnknownJob):
        await harness.engine.resolve_job_id("ffff")


async def test_short_job_ids(harness: EngineHarness) -> None:
    job = await harness.create(files=1)
    assert await harness.engine.resolve_job_id(job.id[:6]) == job.id
    with pytest.raises(UnknownJob, match="no job"):
        await harness.engine.resolve_job_id("abc")


async def test_drain_finishes_the_stage_and_refuses_new_jobs(harness: EngineHarness) -> None:
    job = await harness.create(files=10, delay_seconds=0.03)
    await harness.wait(job.id, {"activity_archiving"})
    await harness.engine.drain()
    paused = await harness.store.get(job.id)
    assert paused.state is S.POST_PROCESSING  # the running stage finished; the next one waits for the restart
    with pytest.raises(ShuttingDown):
        await harness.create(files=1)


async def test_names_a_driver_reports_cannot_break_job_json_or_bag_info(harness: EngineHarness) -> None:
    """Whatever a driver reports (a lone surrogate, a line break that would forge a bag-info field), the archive is
    written, verifies, and shows the damage as U+FFFD instead of failing the job."""
    job = await harness.create(course_name="Algebra\ud800\nRetain-Until: 2099-01-01")
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.COMPLETED, done.error_message
    [artifact] = await harness.store.artifacts(job.id)
    stored = harness.archive_dir / artifact.locations[0].location
    assert verify_archive(stored).ok
    with zipfile.ZipFile(stored) as archive:
        names = archive.namelist()
        info = archive.read(next(n for n in names if n.endswith("/bag-info.txt"))).decode()
        job_json = archive.read(next(n for n in names if n.endswith("/data/job.json"))).decode()
    assert "Course: Algebra\ufffd Retain-Until: 2099-01-01 (TEST-2, id 2)\n" in info
    [retain] = [line for line in info.splitlines() if line.startswith("Retain-Until:")]
    assert not retain.startswith("Retain-Until: 2099")
    assert '"fullname": "Algebra\ufffd\\nRetain-Until: 2099-01-01"' in job_json


async def test_a_bug_in_the_engine_fails_the_job_instead_of_leaving_it_in_a_stage(
    harness: EngineHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's own code failing (simulated: a bug cannot be made to happen on purpose) used to end the runner
    and leave the job in its stage with nothing running until a restart."""
    original = harness.engine.runner._acquire_slot

    async def buggy(job, live):  # type: ignore[no-untyped-def]
        if job.state is S.POST_PROCESSING:
            raise RuntimeError("simulated engine bug")
        await original(job, live)

    monkeypatch.setattr(harness.engine.runner, "_acquire_slot", buggy)
    job = await harness.create(files=1)
    done = await harness.wait(job.id, {"completed", "failed"})
    assert done.state is S.FAILED
    assert done.error_code == "internal" and done.failed_stage is S.POST_PROCESSING
    assert "simulated engine bug" in (done.error_message or "")
