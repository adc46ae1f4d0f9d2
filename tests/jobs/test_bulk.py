"""Bulk commands in the engine: a job the single-job command refuses is skipped with the command's reason while the
others go on; a shutdown ends a bulk action without touching the jobs not started yet."""

from __future__ import annotations

import pytest

from archived.jobs.bulk import BulkCommands
from archived.jobs.engine import ShuttingDown
from archived.protocol.jobs import JobFilter
from archived.protocol.states import JobState
from archived.store.records import Initiator
from tests.jobs.conftest import EngineHarness

OPERATOR = Initiator("operator", "tester")


async def test_a_job_the_command_refuses_is_skipped_with_its_reason(harness: EngineHarness) -> None:
    jobs = [await harness.create(files=1) for _ in range(2)]
    for job in jobs:
        await harness.wait(job.id, {"completed"})
    bulk = BulkCommands(commands=harness.engine, store=harness.store)
    target = harness.engine.targets.pop("local")  # the configuration no longer names the target the copies are on
    try:
        outcome = await bulk.delete_matching(JobFilter(), expected=2, by=OPERATOR, force=True)
    finally:
        harness.engine.targets["local"] = target
    assert outcome.matched == 2 and outcome.acted == []
    [(reason, skipped)] = outcome.skipped.items()
    assert "storage target local is no longer configured" in reason and skipped == [job.id for job in jobs]
    assert [(await harness.store.get(job.id)).deleted_at for job in jobs] == [None, None]


async def test_a_shutdown_ends_a_bulk_retry_and_leaves_the_jobs_alone(harness: EngineHarness) -> None:
    jobs = [await harness.create(files=1, fatal=True) for _ in range(3)]
    for job in jobs:
        await harness.wait(job.id, {"failed"})
    await harness.engine.drain()
    bulk = BulkCommands(commands=harness.engine, store=harness.store)
    with pytest.raises(ShuttingDown):
        await bulk.retry_matching(JobFilter(states=[JobState.FAILED]), expected=3, by=OPERATOR)
    assert [(await harness.store.get(job.id)).state for job in jobs] == [JobState.FAILED] * 3
