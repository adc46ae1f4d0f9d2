"""Retention: delivered events and job log lines are swept by age (a controllable clock, no sleeping); events a
consumer has not received stay; warning and error lines of a job's log stay as long as its record."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from archived.config import RetentionConfig
from archived.daemon.housekeeping import DAY, Housekeeping, SweepReport
from archived.protocol.states import JobState
from archived.store.database import Database, StoreProblem
from archived.store.jobs import JobStore
from archived.store.log_retention import sweep_job_logs
from archived.store.records import Initiator, JobRecord


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    db = await Database.open(tmp_path / "archived.sqlite3")
    yield JobStore(db)
    await db.close()


async def add_job(store: JobStore, job_id: str = "00000000-0000-4000-8000-000000000001") -> JobRecord:
    now = time.time()
    job = JobRecord(
        id=job_id, driver="quiz", course_id=2, cmid=7, initiator=Initiator("operator", "tester"), settings={},
        state=JobState.QUEUED, timeout_seconds=60, created_at=now, updated_at=now,
    )  # fmt: skip
    await store.create(job, logs=[("info", "created")])
    return job


async def event_ids(store: JobStore) -> list[int]:
    return [event.id for event in await store.outbox.after(0, limit=10_000)]


async def log_levels(store: JobStore, job_id: str) -> list[str]:
    return sorted(entry.level for entry in await store.logs(job_id, limit=10_000))


async def test_delivered_events_are_swept_after_their_period_undelivered_ones_stay(store: JobStore) -> None:
    job = await add_job(store)
    for index in range(4):
        await store.add_log(job.id, "info", f"line {index}")
    ids = await event_ids(store)
    delivered = ids[2]  # the slowest consumer has received the first three events
    clock = Clock()
    housekeeping = Housekeeping(RetentionConfig(), outbox=store.outbox, delivered_up_to=lambda: delivered, clock=clock)

    assert await housekeeping.sweep() == SweepReport()  # nothing is 30 days old yet
    clock.now += 29 * DAY
    assert (await housekeeping.sweep()).events == 0
    clock.now += 2 * DAY
    assert (await housekeeping.sweep()).events == 3
    assert await event_ids(store) == ids[3:]  # not yet delivered to every consumer: kept, however old

    forever = Housekeeping(
        RetentionConfig(delivered_events_days=0), outbox=store.outbox, delivered_up_to=lambda: ids[-1], clock=clock
    )
    clock.now += 3650 * DAY
    assert (await forever.sweep()).events == 0  # 0 keeps them for good


async def test_debug_lines_go_after_90_days_warnings_and_errors_stay_with_the_job(store: JobStore) -> None:
    job = await add_job(store)  # its first line is an info line
    for level in ("debug", "debug", "info", "warning", "error"):
        await store.add_log(job.id, level, f"a {level} line")
    clock = Clock()
    defaults = Housekeeping(RetentionConfig(), outbox=store.outbox, delivered_up_to=lambda: None, clock=clock)
    clock.now += 89 * DAY
    assert await defaults.sweep() == SweepReport()
    clock.now += 2 * DAY
    assert await defaults.sweep() == SweepReport(debug_lines=2)
    clock.now += 20 * 365 * DAY
    assert await defaults.sweep() == SweepReport()  # info lines: kept as long as the job's record by default
    assert await log_levels(store, job.id) == ["error", "info", "info", "warning"]

    strict = Housekeeping(
        RetentionConfig(info_log_days=1, debug_log_days=1), outbox=store.outbox, delivered_up_to=lambda: None,
        clock=clock,
    )  # fmt: skip
    assert await strict.sweep() == SweepReport(info_lines=2)
    # A failed job's error lines are evidence: nothing sweeps them, whatever the configuration.
    assert await log_levels(store, job.id) == ["error", "warning"]
    with pytest.raises(ValueError, match="life of the job record"):
        await sweep_job_logs(store.db, level="error", before=clock.now)


async def test_the_sweep_runs_on_the_tick_once_per_interval(store: JobStore) -> None:
    job = await add_job(store)
    await store.add_log(job.id, "debug", "old")
    clock = Clock()
    clock.now += 100 * DAY
    housekeeping = Housekeeping(
        RetentionConfig(sweep_interval_minutes=60), outbox=store.outbox, delivered_up_to=lambda: None, clock=clock
    )
    housekeeping.tick()  # the first tick sweeps at once
    first = housekeeping._task
    assert first is not None and await first == SweepReport(debug_lines=1)
    await store.add_log(job.id, "debug", "another")  # recorded now, 100 days before the clock
    clock.now += 59 * 60
    housekeeping.tick()
    assert housekeeping._task is first  # not due yet
    clock.now += 2 * 60
    housekeeping.tick()
    assert housekeeping._task is not first and await housekeeping._task == SweepReport(debug_lines=1)
    await housekeeping.close()


async def test_a_sweep_never_hides_a_store_that_cannot_be_written(store: JobStore) -> None:
    """A sweep that finds nothing to delete used to commit an empty write, which cleared the store's disk problem
    from `archived status` while jobs still could not write."""
    job = await add_job(store)
    await store.add_log(job.id, "debug", "recent")
    problem = StoreProblem("its disk is full", time.time())
    store.db.problem = problem
    housekeeping = Housekeeping(RetentionConfig(), outbox=store.outbox, delivered_up_to=lambda: 0)
    assert await housekeeping.sweep() == SweepReport()
    assert store.db.problem is problem
    housekeeping.tick()  # while the store has a disk problem, the tick does not sweep at all
    assert housekeeping._task is None


async def test_the_newest_event_survives_every_sweep_so_ids_never_start_again_below_consumers_positions(
    store: JobStore,
) -> None:
    job = await add_job(store)
    await store.add_log(job.id, "info", "one more line")
    ids = await event_ids(store)
    clock = Clock()
    housekeeping = Housekeeping(
        RetentionConfig(delivered_events_days=1), outbox=store.outbox, delivered_up_to=lambda: ids[-1], clock=clock
    )
    clock.now += 2 * DAY  # every event delivered to every consumer and old enough to go

    assert (await housekeeping.sweep()).events == len(ids) - 1
    assert await event_ids(store) == ids[-1:]
    await store.add_log(job.id, "info", "after a quiet month")
    assert (await event_ids(store))[-1] > ids[-1]  # a consumer positioned at ids[-1] sees the new event
