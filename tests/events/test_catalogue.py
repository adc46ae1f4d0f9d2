"""The event catalogue: which events a transition emits, which are durable, and how they look on the wire."""

from __future__ import annotations

import itertools

import pytest

from archived.protocol.events import (
    DURABLE_KINDS,
    EVENT_MODELS,
    RESERVED_KINDS,
    EventKind,
    JobProgress,
    JobStateChanged,
    transition_events,
)
from archived.protocol.jobs import Initiator, JobSummary
from archived.protocol.states import JobState
from archived.store.events import EventOutbox

S = JobState
JOB = JobSummary(id="j", driver="quiz", course_id=2, cmid=7, state=S.QUEUED, initiator=Initiator(kind="t", name="t"))
FAILURE_PATH = [S.QUEUED, S.ACTIVITY_ARCHIVING, S.ERROR, S.FAILURE, S.ERROR_HANDLING, S.CLEANUP, S.FAILED]


def kinds_along(path: list[JobState]) -> list[str]:
    return [event.KIND.value for a, b in itertools.pairwise(path) for event in transition_events(JOB, a, b, "r")]


def test_a_failed_job_emits_job_failed_once() -> None:
    """`job.failed` used to be published on entering ErrorHandling and again at the end of Cleanup."""
    kinds = kinds_along(FAILURE_PATH)
    assert kinds.count("job.failed") == 1
    assert kinds[-1] == "job.failed"
    assert kinds.count("job.state") == len(FAILURE_PATH) - 1


@pytest.mark.parametrize(
    "end,kind", [(S.COMPLETED, "job.completed"), (S.CANCELED, "job.aborted"), (S.TIMED_OUT, "job.aborted")]
)
def test_every_ending_emits_one_finishing_event(end: JobState, kind: str) -> None:
    kinds = kinds_along([S.STORE, S.CLEANUP, end])
    assert kinds == ["job.state", "job.state", kind]


def test_the_activity_task_events_follow_the_activity_stage() -> None:
    kinds = kinds_along([S.QUEUED, S.ACTIVITY_ARCHIVING, S.ERROR, S.RECOVERABLE_ERROR, S.ACTIVITY_ARCHIVING,
                         S.POST_PROCESSING])  # fmt: skip
    assert [k for k in kinds if k.startswith("activity.")] == [
        "activity.task.created", "activity.task.failed", "activity.task.created", "activity.task.completed",
    ]  # fmt: skip


def test_a_timeline_note_is_a_state_event_only() -> None:
    events = transition_events(JOB, S.STORE, S.STORE, "daemon restarted: resuming at store")
    assert [e.to_data()["from"] for e in events] == ["store"]
    assert [e.KIND for e in events] == [EventKind.JOB_STATE]


def test_the_catalogue_names_every_kind_once() -> None:
    assert set(EVENT_MODELS) | RESERVED_KINDS == set(EventKind)
    assert not set(EVENT_MODELS) & RESERVED_KINDS
    assert EventKind.JOB_PROGRESS not in DURABLE_KINDS and EventKind.COURSES_REFRESHED not in DURABLE_KINDS
    # The kinds the TUI and the CLI subscribe to keep their wire names.
    assert {"job.created", "job.state", "job.log", "job.completed", "job.failed", "job.aborted", "job.deleted",
            "storage.write.completed"} <= {k.value for k in DURABLE_KINDS}  # fmt: skip


def test_a_state_event_reads_back_from_its_wire_form() -> None:
    event = JobStateChanged(job=JOB, from_state=S.QUEUED, to=S.STORE, reason="resumed")
    data = event.to_data()
    assert data["from"] == "queued" and data["to"] == "store" and data["job"]["id"] == "j"
    assert JobStateChanged.model_validate({**data, "added_later": 1}) == event  # a newer daemon may add fields


async def test_the_outbox_refuses_live_notifications(store) -> None:  # type: ignore[no-untyped-def]
    outbox: EventOutbox = store.outbox
    with pytest.raises(ValueError, match="live notification"):
        await outbox.append(JobProgress(progress=1.0, text="x"), job_id=None)
