"""Checkpoints kept entry by entry (a driver's finished attempts): added, replaced, dropped, deleted."""

from __future__ import annotations

from archived.jobs.context import PARTIAL_CHECKPOINT
from tests.jobs.conftest import OPERATOR, EngineHarness


async def test_items_add_up_and_replace_by_key(harness: EngineHarness):
    store = harness.store
    job = await harness.create(delay_seconds=30)
    assert await store.checkpoint_items(job.id, PARTIAL_CHECKPOINT) == {}
    assert not await store.has_checkpoint(job.id, PARTIAL_CHECKPOINT)

    await store.add_checkpoint_items(job.id, PARTIAL_CHECKPOINT, {"11": {"path": "a.pdf"}, "12": {"path": "b.pdf"}})
    await store.add_checkpoint_items(job.id, PARTIAL_CHECKPOINT, {"12": {"path": "b2.pdf"}, "13": {"path": "c.pdf"}})
    await store.add_checkpoint_items(job.id, PARTIAL_CHECKPOINT, {})  # nothing new: nothing written

    assert await store.checkpoint_items(job.id, PARTIAL_CHECKPOINT) == {
        "11": {"path": "a.pdf"}, "12": {"path": "b2.pdf"}, "13": {"path": "c.pdf"},
    }  # fmt: skip
    assert await store.has_checkpoint(job.id, PARTIAL_CHECKPOINT)
    assert await store.checkpoint_items(job.id, "other") == {}


async def test_dropping_a_stage_drops_its_items_only(harness: EngineHarness):
    store = harness.store
    job = await harness.create(delay_seconds=30)
    await store.add_checkpoint_items(job.id, PARTIAL_CHECKPOINT, {"1": 1})
    await store.add_checkpoint_items(job.id, "test.other", {"x": 2})

    await store.drop_checkpoints(job.id, [PARTIAL_CHECKPOINT])

    assert not await store.has_checkpoint(job.id, PARTIAL_CHECKPOINT)
    assert await store.checkpoint_items(job.id, "test.other") == {"x": 2}


async def test_a_deleted_job_keeps_no_items(harness: EngineHarness):
    store = harness.store
    job = await harness.create(delay_seconds=30)
    await store.add_checkpoint_items(job.id, PARTIAL_CHECKPOINT, {"1": 1})

    await store.mark_deleted(job.id, by=OPERATOR, deleted=[])

    assert await store.checkpoint_items(job.id, PARTIAL_CHECKPOINT) == {}
