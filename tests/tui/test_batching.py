"""Folding the event stream: newest summary and progress per job win; logs, creations, deletions stay."""

from __future__ import annotations

from typing import Any

from archived_tui.batching import EventBatcher


def job(job_id: str, state: str, progress: float = 0.0) -> dict[str, Any]:
    """A job summary as the daemon sends it."""
    return {"id": job_id, "driver": "slowtest", "course_id": 2, "cmid": 7, "state": state, "progress": progress,
            "initiator": {"kind": "operator", "name": "root", "uid": 0}}  # fmt: skip


def event(kind: str, about: str | None, /, **data: Any) -> dict[str, Any]:
    """An event notification's params (`about`: the job it concerns)."""
    return {"kind": kind, "job_id": about, "at": 0.0, "data": data}


def test_a_pending_progress_update_replaces_the_previous_one() -> None:
    batcher = EventBatcher()
    for n in range(1, 101):
        batcher.add(event("job.progress", "a", progress=float(n), text=f"file {n}/100"))
    batcher.add(event("job.progress", "b", progress=5.0, text="file 1/20"))
    batch = batcher.drain()
    assert batch.folded == 101
    assert {k: (p.percent, p.text) for k, p in batch.progress.items()} == {
        "a": (100.0, "file 100/100"),
        "b": (5.0, "file 1/20"),
    }
    assert not batcher.pending()


def test_a_state_change_is_never_lost_and_supersedes_older_progress() -> None:
    batcher = EventBatcher()
    batcher.add(event("job.created", "a", job=job("a", "queued")))
    batcher.add(event("job.progress", "a", progress=50.0, text="half"))
    batcher.add(event("job.state", "a", job=job("a", "store", 100.0)))
    batcher.add(event("job.completed", "a", job=job("a", "completed", 100.0)))
    batch = batcher.drain()
    assert batch.created == ["a"]
    assert batch.jobs["a"].state == "completed"
    assert "a" not in batch.progress  # the summary is newer than the progress
    assert [(kind, j.state) for kind, j in batch.finished] == [("job.completed", "completed")]
    assert batch.touches_jobs


def test_progress_after_a_state_change_is_kept() -> None:
    batcher = EventBatcher()
    batcher.add(event("job.state", "a", job=job("a", "activity_archiving")))
    batcher.add(event("job.progress", "a", progress=30.0, text="file 3/10"))
    batch = batcher.drain()
    assert batch.jobs["a"].progress == 0.0
    assert batch.progress["a"].percent == 30.0


def test_logs_keep_their_order_and_deletions_drop_pending_changes() -> None:
    batcher = EventBatcher()
    for n in (1, 2, 3):
        batcher.add(event("job.log", "a", id=n, at="2026-03-02T09:00:00Z", level="info", message=f"line {n}"))
    batcher.add(event("job.state", "b", job=job("b", "failed")))
    batcher.add(event("job.deleted", "b", job_id="b", deleted=["local:x.zip"]))
    batcher.add(event("storage.write.completed", "a", target="local", location="x.zip"))
    batch = batcher.drain()
    assert [e.message for e in batch.logs["a"]] == ["line 1", "line 2", "line 3"]
    assert batch.deleted == ["b"] and "b" not in batch.jobs
    assert batch.storage_writes == [{"job_id": "a", "target": "local", "location": "x.zip"}]


def test_an_event_the_tui_does_not_understand_is_skipped() -> None:
    batcher = EventBatcher()
    batcher.add(event("job.state", "a", job={"id": "a"}))  # incomplete summary
    batcher.add(event("connector.delivered", None, connector="webhook"))
    batcher.add(event("job.progress", "a", progress=10.0, text=""))
    batch = batcher.drain()
    assert batch.folded == 3
    assert not batch.jobs and batch.progress["a"].percent == 10.0


def test_a_refreshed_course_overview_is_noted() -> None:
    batcher = EventBatcher()
    batcher.add(event("courses.refreshed", None, courses=5000))
    assert batcher.drain().courses_refreshed


def test_a_burst_or_a_late_batch_is_marked_behind() -> None:
    batcher = EventBatcher()
    for n in range(150):  # more changed jobs than are worth updating row by row
        batcher.add(event("job.failed", f"j{n}", job=job(f"j{n}", "failed")))
    assert batcher.drain(now=0.0).behind

    batcher.add({**event("job.state", "a", job=job("a", "store")), "at": 100.0})
    batcher.add({**event("job.state", "b", job=job("b", "store")), "at": 101.0})
    late = batcher.drain(now=105.0)
    assert late.lag == 5.0 and late.behind  # the oldest event is 5 s old: the TUI fell behind

    batcher.add({**event("job.state", "a", job=job("a", "store")), "at": 100.0})
    assert not batcher.drain(now=100.5).behind
