"""Finding jobs in the store: each filter and each part of the search, every sort key stable (ties in job id
order), keyset pages that return every job once while jobs are added, totals that follow every write, and cursors
that belong to another sort refused."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archived.protocol.jobs import JobFilter, JobSortKey
from archived.protocol.states import JobState
from archived.store.database import Database
from archived.store.job_queries import InvalidCursor, SortOrder
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord

BASE = 1_800_000_000.0  # 2027-01-15


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    db = await Database.open(tmp_path / "archived.sqlite3")
    store = JobStore(db)
    yield store
    await store.close()
    await db.close()


def job_id(number: int) -> str:
    return f"{number:08x}-0000-4000-8000-000000000000"


async def add(
    store: JobStore,
    number: int,
    *,
    created: float,
    course_id: int = 2,
    course: str = "Chemistry",
    activity: str = "Final exam",
    initiator: str = "alice",
    state: JobState = JobState.QUEUED,
    error: str | None = None,
    run_seconds: float = 0.0,
    finished: float | None = None,
    deleted: bool = False,
) -> str:
    """A job written through the store, then put into the state a runner would leave it in."""
    job = JobRecord(
        id=job_id(number), driver="quiz", course_id=course_id, cmid=100 + course_id,
        initiator=Initiator("operator", initiator), settings={}, state=JobState.QUEUED, timeout_seconds=60,
        created_at=BASE + created, updated_at=BASE + created,
        course_name=course, activity_name=activity,
    )  # fmt: skip
    await store.create(job)
    await store.update(job.id, error_code=error, run_seconds=run_seconds, finished_at=finished and BASE + finished)
    async with store.db.transaction() as conn:  # the states a runner leaves, without walking the state chart
        await conn.execute(
            "UPDATE jobs SET state = ?, deleted_at = ?, updated_at = ? WHERE id = ?",
            (state.value, BASE if deleted else None, time.time(), job.id),
        )
    return job.id


@pytest.fixture
async def jobs(store: JobStore) -> dict[str, str]:
    """Seven jobs that differ in each field a filter or sort looks at."""
    return {
        "chem": await add(
            store,
            1,
            created=10,
            course="Chemistry",
            activity="Final exam",
            state=JobState.COMPLETED,
            run_seconds=30,
            finished=40,
        ),
        "strasse": await add(
            store,
            2,
            created=20,
            course_id=3,
            course="Straße und Verkehr",
            activity="Quiz 1",
            state=JobState.FAILED,
            error="moodle_access_denied",
            initiator="bob",
            finished=25,
        ),
        "bio": await add(
            store,
            3,
            created=30,
            course_id=4,
            course="biology",
            activity="midterm",
            state=JobState.FAILED,
            error="storage_unreachable",
            run_seconds=5,
            finished=35,
        ),
        "same_a": await add(store, 0xABC0, created=40, course="Physics", activity="Exam", initiator="schedule"),
        "same_b": await add(store, 0xABC1, created=40, course="Physics", activity="Exam", initiator="schedule"),
        "gone": await add(store, 6, created=50, course="Gone", state=JobState.COMPLETED, deleted=True, finished=55),
        "running": await add(store, 7, created=60, course="Art", state=JobState.ACTIVITY_ARCHIVING),
    }


async def found(store: JobStore, **criteria: object) -> set[str]:
    listing = await store.list_jobs(JobFilter.model_validate(criteria), limit=1000)
    assert listing.total == len(listing.jobs)
    return {job.id for job in listing.jobs}


async def test_each_filter_narrows_the_jobs(store: JobStore, jobs: dict[str, str]) -> None:
    visible = set(jobs.values()) - {jobs["gone"]}
    assert await found(store) == visible
    assert await found(store, include_deleted=True) == set(jobs.values())
    assert await found(store, states=["failed"]) == {jobs["strasse"], jobs["bio"]}
    assert await found(store, states=["completed"], include_deleted=True) == {jobs["chem"], jobs["gone"]}
    assert await found(store, error_codes=["moodle_access_denied"]) == {jobs["strasse"]}
    assert await found(store, course_id=4) == {jobs["bio"]}
    assert await found(store, cmid=103) == {jobs["strasse"]}
    since = datetime.fromtimestamp(BASE + 30, UTC)
    until = datetime.fromtimestamp(BASE + 60, UTC)
    assert await found(store, created_since=since) == {jobs["bio"], jobs["same_a"], jobs["same_b"], jobs["running"]}
    assert await found(store, created_since=since, created_until=until) == {jobs["bio"], jobs["same_a"], jobs["same_b"]}
    assert await found(store, states=["failed"], course_id=3) == {jobs["strasse"]}


async def test_search_finds_names_error_codes_initiators_and_id_prefixes(store: JobStore, jobs: dict[str, str]) -> None:
    assert await found(store, search="chemis") == {jobs["chem"]}  # course name, any case
    assert await found(store, search="MIDTERM") == {jobs["bio"]}  # activity name
    assert await found(store, search="STRASSE") == {jobs["strasse"]}  # Unicode case folding: ß is ss
    assert await found(store, search="access_denied") == {jobs["strasse"]}  # error code
    assert await found(store, search="bob") == {jobs["strasse"]}  # initiator
    assert await found(store, search="0000abc") == {jobs["same_a"], jobs["same_b"]}  # start of the job id
    assert await found(store, search="4000-8000") == set()  # the middle of an id is not searched
    assert await found(store, search="exam", states=["queued"]) == {jobs["same_a"], jobs["same_b"]}
    assert await found(store, search="gone") == set()  # deleted jobs only with include_deleted
    assert await found(store, search="gone", include_deleted=True) == {jobs["gone"]}
    assert await found(store, search="  ") == await found(store)  # blank: no search


@pytest.mark.parametrize("key", list(JobSortKey))
async def test_every_sort_is_stable_and_pages_follow_it(store: JobStore, jobs: dict[str, str], key: JobSortKey) -> None:
    for descending in (False, True):
        order = SortOrder(key, descending)
        whole = [job.id for job in (await store.list_jobs(sort=order, limit=1000)).jobs]
        again = [job.id for job in (await store.list_jobs(sort=order, limit=1000)).jobs]
        assert whole == again and len(whole) == 6
        paged, cursor = [], None
        while True:
            listing = await store.list_jobs(sort=order, limit=2, cursor=cursor)
            paged += [job.id for job in listing.jobs]
            cursor = listing.next_cursor
            if cursor is None:
                break
        assert paged == whole
        # Equal values keep job id order (in the direction of the sort).
        a, b = whole.index(jobs["same_a"]), whole.index(jobs["same_b"])
        if key in (JobSortKey.CREATED, JobSortKey.COURSE, JobSortKey.ACTIVITY, JobSortKey.INITIATOR):
            assert abs(a - b) == 1
        assert (a < b) is not descending


async def test_sorts_order_by_their_values(store: JobStore, jobs: dict[str, str]) -> None:
    async def ordered(key: JobSortKey, **criteria: object) -> list[str]:
        listing = await store.list_jobs(JobFilter.model_validate(criteria), sort=SortOrder(key, False), limit=100)
        return [job.id for job in listing.jobs]

    assert await ordered(JobSortKey.CREATED) == [
        jobs["chem"], jobs["strasse"], jobs["bio"], jobs["same_a"], jobs["same_b"], jobs["running"]
    ]  # fmt: skip
    by_course = await ordered(JobSortKey.COURSE)
    assert by_course[:3] == [jobs["running"], jobs["bio"], jobs["chem"]]  # Art, biology, Chemistry: case ignored
    assert await ordered(JobSortKey.ERROR_CODE, states=["failed"]) == [jobs["strasse"], jobs["bio"]]
    assert await ordered(JobSortKey.RUN_TIME, states=["failed", "completed"]) == [
        jobs["strasse"], jobs["bio"], jobs["chem"]
    ]  # fmt: skip
    assert (await ordered(JobSortKey.FINISHED))[-3:] == [jobs["strasse"], jobs["bio"], jobs["chem"]]
    assert (await ordered(JobSortKey.INITIATOR))[-2:] == [jobs["same_a"], jobs["same_b"]]
    assert (await ordered(JobSortKey.STATE))[0] == jobs["running"]  # activity_archiving


async def test_keyset_pages_return_every_job_once_while_jobs_are_added(store: JobStore) -> None:
    for number in range(25):
        await add(store, number, created=number)
    seen: list[str] = []
    cursor = None
    added = 100
    while True:
        listing = await store.list_jobs(limit=4, cursor=cursor)
        seen += [job.id for job in listing.jobs]
        # New jobs arrive between pages (newer than every listed one): they belong to the first page, not here.
        for _ in range(3):
            await add(store, added, created=added)
            added += 1
        cursor = listing.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(job_id(number) for number in range(25))
    assert len(seen) == len(set(seen))


async def test_the_total_follows_every_write(store: JobStore) -> None:
    assert (await store.list_jobs()).total == 0
    first = await add(store, 1, created=1, state=JobState.FAILED)
    assert (await store.list_jobs()).total == 1
    assert (await store.list_jobs(JobFilter(states=[JobState.FAILED]))).total == 1
    await add(store, 2, created=2, state=JobState.FAILED)
    assert (await store.list_jobs(JobFilter(states=[JobState.FAILED]))).total == 2
    await store.mark_deleted(first, by=Initiator("operator", "alice"), deleted=[])
    assert (await store.list_jobs(JobFilter(states=[JobState.FAILED]))).total == 1
    assert (await store.list_jobs(JobFilter(states=[JobState.FAILED], include_deleted=True))).total == 2
    assert await store.count_matching(JobFilter(include_deleted=True)) == 2


async def test_summaries_are_written_again_when_a_job_changes(store: JobStore) -> None:
    job = await add(store, 1, created=1)
    [before] = (await store.list_summaries(JobFilter())).summaries
    assert '"progress_text":""' in before
    await store.update(job, progress_text="downloading attempt 3 of 9")
    [after] = (await store.list_summaries(JobFilter())).summaries
    assert '"progress_text":"downloading attempt 3 of 9"' in after


async def test_a_cursor_of_another_sort_or_garbage_is_refused(store: JobStore) -> None:
    for number in range(3):
        await add(store, number, created=number)
    cursor = (await store.list_jobs(limit=1)).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor, match="another sort"):
        await store.list_jobs(sort=SortOrder(JobSortKey.COURSE), cursor=cursor)
    with pytest.raises(InvalidCursor, match="not a cursor"):
        await store.list_jobs(cursor="not-a-cursor")


async def test_answers_kept_until_the_store_changes_follow_a_write_of_any_connection(store: JobStore) -> None:
    for number in range(3):
        await add(store, number, created=number)
    first = await store.list_summaries(JobFilter())
    assert first.total == 3 and await store.list_summaries(JobFilter()) is first  # unchanged store: kept
    # Clients asking at once for the same page share one read.
    together = await asyncio.gather(*(store.list_summaries(JobFilter(), limit=2) for _ in range(5)))
    assert all(listing is together[0] for listing in together) and len(together[0].summaries) == 2

    # A write by another connection (a tool beside the daemon, another part of it) is seen at once.
    other = sqlite3.connect(store.db.path or "")
    with other:
        other.execute("UPDATE jobs SET deleted_at = 1, updated_at = 2 WHERE id = ?", (job_id(0),))
    other.close()
    after = await store.list_summaries(JobFilter())
    assert after.total == 2 and job_id(0) not in "".join(after.summaries)
    assert (await store.list_summaries(JobFilter(include_deleted=True))).total == 3
    assert await store.count_matching(JobFilter()) == 2
