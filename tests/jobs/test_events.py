"""The engine's events go through the outbox: in order, once, durable where they must be; a resumed job says
where it resumed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archived.events.bus import Event
from archived.protocol.states import JobState

from .conftest import EngineHarness, make_engine

S = JobState


async def received(harness: EngineHarness, subscription, job_id: str) -> list[Event]:  # type: ignore[no-untyped-def]
    """Every event the subscription got for the job once the dispatcher delivered what is committed."""
    assert await harness.events.flush(10)
    events = []
    while subscription.pending():
        event = await subscription.get()
        if event.job_id == job_id:
            events.append(event)
    return events


async def test_job_failed_arrives_once_per_failed_job(harness: EngineHarness) -> None:
    """Before: published on entering ErrorHandling and again after Cleanup (two toasts per failure)."""
    subscription = harness.bus.subscribe(kinds=["job.failed", "job.completed", "job.aborted"])
    job = await harness.create(fatal=True)
    await harness.wait(job.id, {"failed"})
    events = await received(harness, subscription, job.id)
    assert [e.kind for e in events] == ["job.failed"]
    assert events[0].data["job"]["state"] == "failed" and events[0].data["job"]["error_code"] == "fatal"


async def test_a_job_s_events_come_through_the_outbox_in_order(harness: EngineHarness) -> None:
    subscription = harness.bus.subscribe()
    job = await harness.create(files=2)
    await harness.wait(job.id, {"completed"})
    events = await received(harness, subscription, job.id)
    durable = [e for e in events if e.kind != "job.progress"]
    ids = [e.id for e in durable]
    assert None not in ids and ids == sorted(ids) and len(set(ids)) == len(ids)
    with sqlite3.connect(harness.root / "state" / "archived.sqlite3") as db:
        rows = db.execute("SELECT id, kind FROM events WHERE job_id = ? ORDER BY id", (job.id,)).fetchall()
    assert [(e.id, e.kind) for e in durable] == rows  # exactly what the outbox holds, nothing published beside it
    kinds = [e.kind for e in durable]
    assert kinds[0] == "job.created" and kinds[-1] == "job.log" and kinds.count("job.completed") == 1
    milestones = [k for k in kinds if k not in ("job.log", "job.state")]
    assert milestones == ["job.created", "activity.task.created", "activity.task.completed",
                          "storage.write.created", "storage.write.completed", "job.completed"]  # fmt: skip
    logs = [e.data["message"] for e in durable if e.kind == "job.log"]
    assert logs[-1] == "job ended: completed"  # the live log (TUI, `jobs logs -f`) comes the same way
    # Progress stays a live notification: coalesced, never in the outbox.
    assert all(e.id is None for e in events if e.kind == "job.progress")
    assert "job.progress" not in {kind for _, kind in rows}


async def test_a_resumed_job_says_in_its_timeline_where_it_resumed(tmp_path: Path) -> None:
    first = await make_engine(tmp_path)
    job = await first.create(files=30, delay_seconds=0.05)
    await first.wait(job.id, {"activity_archiving"})
    await first.close()  # like a daemon killed in the stage

    again = await make_engine(tmp_path)
    try:
        done = await again.wait(job.id, {"completed", "failed"})
        assert done.state is S.COMPLETED
        timeline = await again.store.timeline(job.id)
        notes = [t for t in timeline if t.from_state is t.to_state]
        assert [(t.to_state, t.reason) for t in notes] == [
            (S.ACTIVITY_ARCHIVING, "daemon restarted: resuming at activity_archiving")
        ]
        after = timeline[timeline.index(notes[0]) + 1 :]
        assert [t.to_state for t in after] == [S.POST_PROCESSING, S.STORE, S.CLEANUP, S.COMPLETED]
    finally:
        await again.close()
