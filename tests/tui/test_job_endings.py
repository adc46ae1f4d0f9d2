"""Job endings grouped into one notice per burst, and the Jobs screen's query re-told for one job."""

from __future__ import annotations

from datetime import UTC, datetime

from archived.protocol.jobs import JobSummary
from archived_tui.job_endings import EndingDigest
from archived_tui.job_query import JobQuery


def ended(n: int, state: str, error_code: str | None = None, *, course: str = "Maths") -> JobSummary:
    """A job that ended."""
    return JobSummary.model_validate({
        "id": f"{n:08x}-0000-4000-8000-000000000000", "driver": "quiz", "course_id": 2, "cmid": 7,
        "course_name": course, "activity_name": f"Exam {n}", "state": state, "error_code": error_code,
        "error_message": "boom" if error_code else None, "created_at": "2026-03-02T09:00:00Z",
        "initiator": {"kind": "schedule", "name": "nightly"},
    })  # fmt: skip


def test_a_burst_of_endings_is_one_notice_with_counts_by_error_code() -> None:
    digest = EndingDigest(quiet_seconds=10)
    fresh = []
    for n in range(37):
        fresh.append(digest.add(ended(n, "failed", "moodle_access_denied"), now=100.0 + n * 0.1)[1])
    digest.add(ended(99, "timed_out", "timeout"), now=104.0)
    digest.add(ended(100, "completed"), now=104.5)
    assert fresh.count(True) == 1  # one group
    notice = digest.group.notice(now=110.0) if digest.group else None
    assert notice is not None and notice.severity == "error"
    assert notice.title == "38 jobs failed"
    assert notice.message.startswith("38 jobs failed in the last 10 s — moodle_access_denied ×37, timeout ×1 — F to")
    assert "Also: 1 completed." in notice.message

    group, new = digest.add(ended(101, "failed", "x"), now=200.0)  # after a quiet spell: a new group
    assert new and group.count == 1
    single = group.notice(now=200.0)
    assert single.title == "Job failed" and "Exam 101 (Maths): boom" in single.message


def test_the_query_decides_like_the_daemon_whether_a_job_belongs() -> None:
    now = datetime(2026, 3, 2, 10, 30, tzinfo=UTC).timestamp()  # the job was created at 09:00
    job = ended(1, "failed", "storage_unavailable", course="Linear Algebra")
    assert JobQuery().matches(job, now)
    assert JobQuery.failures(error_codes=["storage_unavailable"]).matches(job, now)
    assert not JobQuery.failures(error_codes=["timeout"]).matches(job, now)
    assert JobQuery(search="linear").matches(job, now) and JobQuery(search="00000001").matches(job, now)
    assert not JobQuery(search="physics").matches(job, now)
    assert JobQuery(time_range=2).matches(job, now) and not JobQuery(time_range=1).matches(job, now)
    assert JobQuery().matches(job.model_copy(update={"deleted": True}), now)  # its record stays: it is listed
    assert not JobQuery(include_deleted=False).matches(job.model_copy(update={"deleted": True}), now)
    params = JobQuery.failures(error_codes=["timeout"]).with_(search=" x ", time_range=1).filter_params(now)
    assert params["states"] == ["failed", "timed_out"] and params["error_codes"] == ["timeout"]
    assert params["search"] == "x" and params["created_since"] == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
