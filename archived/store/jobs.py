"""Persistence of jobs: rows, transitions (with their events, in one transaction), checkpoints, logs,
artifacts and their storage locations."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiosqlite

from archived.protocol.events import JobCreated, JobDeleted, JobLogged, StorageWriteCompleted, transition_events
from archived.protocol.jobs import JobFilter
from archived.protocol.states import JobState, Outcome
from archived.storable_text import storable_text
from archived.store.database import Database
from archived.store.events import EventOutbox
from archived.store.job_queries import JOB_COLUMNS, NEWEST_FIRST, SortOrder, searched_text
from archived.store.job_reader import JobReader
from archived.store.records import Artifact, Initiator, JobRecord, LogEntry, StoredLocation, Transition
from archived.store.state_chart import check_transition
from archived.store.summary_cache import SummaryCache
from archived.store.versioned_cache import VersionedCache

LOG_LEVELS = ("debug", "info", "warning", "error")

_UPDATABLE = {
    "outcome",
    "failed_stage",
    "retries",
    "next_retry_at",
    "progress",
    "progress_text",
    "error_code",
    "error_message",
    "error_recoverable",
    "run_seconds",
    "started_at",
    "finished_at",
    "course_name",
    "activity_name",
    "timeout_seconds",
    "fingerprint",
}


class StaleStateError(RuntimeError):
    """The job was not in the state the caller expected (somebody else moved it)."""


class JobNotFound(LookupError):
    """No job with that id."""


@dataclass(frozen=True)
class JobListing:
    """A page of jobs, how many match in all, and the cursor of the next page (None: the last page)."""

    jobs: list[JobRecord]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class SummaryListing:
    """A page of jobs as `jobs.list` sends it: each job's summary as JSON text, the total and the next cursor."""

    summaries: list[str]
    total: int
    next_cursor: str | None


def _row_to_job(row: aiosqlite.Row | tuple[Any, ...], initiators: dict[str, Initiator] | None = None) -> JobRecord:
    """A job from its row (`JOB_COLUMNS`, in order); `initiators` caches parsed initiators across the rows of one
    page (a page has few). Unpacked by position: a page of 100 jobs is the socket's most frequent large answer."""
    (
        job_id, driver, course_id, cmid, course_name, activity_name, raw_initiator, settings, state, outcome,
        failed_stage, retries, next_retry_at, progress, progress_text, error_code, error_message, error_recoverable,
        run_seconds, timeout_seconds, created_at, updated_at, started_at, finished_at, deleted_at, fingerprint,
    ) = row  # fmt: skip
    initiator = initiators.get(raw_initiator) if initiators is not None else None
    if initiator is None:
        initiator = Initiator.from_dict(json.loads(raw_initiator))
        if initiators is not None:
            initiators[raw_initiator] = initiator
    return JobRecord(
        id=job_id,
        driver=driver,
        course_id=course_id,
        cmid=cmid,
        course_name=course_name,
        activity_name=activity_name,
        initiator=initiator,
        settings=json.loads(settings) if settings != "{}" else {},  # lists leave the settings out
        state=JobState(state),
        outcome=Outcome(outcome) if outcome else None,
        failed_stage=JobState(failed_stage) if failed_stage else None,
        retries=retries,
        next_retry_at=next_retry_at,
        progress=progress,
        progress_text=progress_text,
        error_code=error_code,
        error_message=error_message,
        error_recoverable=bool(error_recoverable),
        run_seconds=run_seconds,
        timeout_seconds=timeout_seconds,
        created_at=created_at,
        updated_at=updated_at,
        started_at=started_at,
        finished_at=finished_at,
        deleted_at=deleted_at,
        fingerprint=fingerprint,
    )


# The fields a job's `search_text` is made of (besides its initiator's name, which never changes).
_SEARCHED_FIELDS = {"course_name", "activity_name", "error_code"}


def _searched(job: JobRecord) -> str:
    """The job's `search_text` (what `jobs.list`'s search looks in)."""
    return storable_text(searched_text(job.course_name, job.activity_name, job.error_code, job.initiator.name))


def _encode(value: Any) -> Any:
    if isinstance(value, JobState | Outcome):
        return value.value
    if isinstance(value, str):
        return storable_text(value)  # SQLite cannot bind a lone surrogate (a name a driver passed on as is)
    return value


class JobStore:
    """All reads and writes of jobs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.outbox = EventOutbox(db)
        if db.path is None:
            raise ValueError("the job store needs the path of its database (its reads open their own connection)")
        self.reader = JobReader(db.path)
        self.summaries = SummaryCache()
        self.pages: VersionedCache[SummaryListing] = VersionedCache()  # `jobs.list` answers until the next write
        self._reading: dict[tuple[int, Hashable], asyncio.Future[SummaryListing]] = {}

    async def close(self) -> None:
        """Close the connections the store's job-finding reads use (once the read in flight, if any, ended)."""
        await asyncio.to_thread(self.reader.close)

    # -- jobs ---------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Whether the store can be written; if not, why and since when (for `daemon.status`)."""
        problem = self.db.problem
        return {
            "path": str(self.db.path or ""),
            "writable": problem is None,
            "problem": problem.message if problem else None,
            "since": problem.since if problem else None,
        }

    async def create(self, job: JobRecord, *, logs: Sequence[tuple[str, str]] = ()) -> list[LogEntry]:
        """Insert a new job, already moved from Uninitialized to Queued, with its first timeline entries, its first
        log lines (`(level, message)`) and their events, all or nothing; returns the log entries."""
        check_transition(JobState.UNINITIALIZED, JobState.QUEUED)
        entries: list[LogEntry] = []
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO jobs ({JOB_COLUMNS}, initiator_name, search_text) VALUES ({', '.join('?' * 28)})",
                (
                    job.id, job.driver, job.course_id, job.cmid, _encode(job.course_name), _encode(job.activity_name),
                    json.dumps(job.initiator.to_dict()), json.dumps(job.settings), job.state.value,
                    None, None, 0, None, 0.0, job.progress_text, None, None, None, 0.0, job.timeout_seconds,
                    job.created_at, job.updated_at, None, None, None, None, _encode(job.initiator.name),
                    _searched(job),
                ),
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO job_transitions (job_id, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)",
                [
                    (job.id, "", JobState.UNINITIALIZED.value, job.created_at, "created"),
                    (
                        job.id,
                        JobState.UNINITIALIZED.value,
                        JobState.QUEUED.value,
                        job.created_at,
                        "settings resolved",
                    ),
                ],
            )
            await self.outbox.record(conn, JobCreated(job=job.to_summary()), job_id=job.id)
            for level, message in logs:
                entries.append(await self._insert_log(conn, job.id, level, message, job.created_at))
        return entries

    async def transition(
        self,
        job_id: str,
        expected: JobState,
        target: JobState,
        *,
        reason: str = "",
        checkpoint: tuple[str, dict[str, Any]] | None = None,
        logs: Sequence[tuple[str, str]] = (),
        **fields: Any,
    ) -> JobRecord:
        """Move a job from `expected` to `target` and update `fields`, atomically with its timeline entry,
        its outbox events (`archived.protocol.events.transition_events`), (optionally) a stage checkpoint and
        log lines (`(level, message)`, already redacted). Raises `StaleStateError` if the job moved."""
        job = await self.get(job_id)
        if job.state is not expected:
            raise StaleStateError(f"job {job_id} is {job.state}, expected {expected}")
        outcome = fields.get("outcome", job.outcome)
        stage = job.failed_stage
        check_transition(expected, target, outcome=outcome, stage=stage)
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = time.time()
        updated = dataclasses.replace(job, state=target, updated_at=now, **fields)
        assignments = ["state = ?", "updated_at = ?", "search_text = ?"] + [f"{name} = ?" for name in fields]
        values = [target.value, now, _searched(updated)] + [_encode(v) for v in fields.values()]
        recoverable = updated.error_recoverable if target is JobState.ERROR else None
        events = transition_events(updated.to_summary(), expected, target, reason, recoverable=recoverable)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE jobs SET {', '.join(assignments)} WHERE id = ? AND state = ?",
                (*values, job_id, expected.value),
            )
            if cursor.rowcount != 1:
                raise StaleStateError(f"job {job_id} left {expected} concurrently")
            await conn.execute(
                "INSERT INTO job_transitions (job_id, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)",
                (job_id, expected.value, target.value, now, storable_text(reason)),
            )
            if checkpoint is not None:
                await self._put_checkpoint(conn, job_id, checkpoint[0], checkpoint[1], now)
            for event in events:
                await self.outbox.record(conn, event, job_id=job_id)
            for level, message in logs:
                await self._insert_log(conn, job_id, level, message, now)
        return updated

    async def add_timeline_note(self, job_id: str, reason: str) -> JobRecord:
        """Add an entry to the job's timeline that changes nothing (from = to = its state), e.g. that the daemon
        restarted and where the job resumes, with its `job.state` event."""
        job = await self.get(job_id)
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO job_transitions (job_id, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)",
                (job_id, job.state.value, job.state.value, now, storable_text(reason)),
            )
            for event in transition_events(job.to_summary(), job.state, job.state, reason):
                await self.outbox.record(conn, event, job_id=job_id)
        return job

    async def update(self, job_id: str, **fields: Any) -> None:
        """Update non-state fields (progress, run time) without a transition."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
                (*[_encode(v) for v in fields.values()], time.time(), job_id),
            )
            if _SEARCHED_FIELDS & fields.keys():
                async with conn.execute(
                    "SELECT course_name, activity_name, error_code, initiator_name FROM jobs WHERE id = ?", (job_id,)
                ) as cur:
                    row = await cur.fetchone()
                if row is not None:
                    text = storable_text(searched_text(row[0], row[1], row[2], row[3]))
                    await conn.execute("UPDATE jobs SET search_text = ? WHERE id = ?", (text, job_id))

    async def mark_deleted(self, job_id: str, *, by: Initiator, deleted: list[str]) -> None:
        """Record that the job (and its stored archives, `deleted`) were deleted; the row stays as evidence."""
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE jobs SET deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, job_id))
            await conn.execute("DELETE FROM job_checkpoints WHERE job_id = ?", (job_id,))
            await conn.execute("DELETE FROM job_checkpoint_items WHERE job_id = ?", (job_id,))
            await self.outbox.record(conn, JobDeleted(job_id=job_id, by=by.to_wire(), deleted=deleted), job_id=job_id)

    async def last_completed_job(self, cmid: int) -> JobRecord | None:
        """The newest completed, not deleted job of an activity."""
        async with self.db.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE cmid = ? AND state = 'completed' AND deleted_at IS NULL "
            "ORDER BY finished_at DESC LIMIT 1",
            (cmid,),
        ) as cur:
            row = await cur.fetchone()
        return _row_to_job(row) if row else None

    async def ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Job ids starting with `prefix` (for short ids typed by operators)."""
        async with self.db.connection.execute(
            "SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?", (prefix, prefix + "\uffff", limit)
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def get(self, job_id: str) -> JobRecord:
        """One job; `JobNotFound` if there is none."""
        async with self.db.connection.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _row_to_job(row)

    async def list_jobs(
        self,
        criteria: JobFilter | None = None,
        *,
        sort: SortOrder = NEWEST_FIRST,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
    ) -> JobListing:
        """A page of matching jobs (without their settings) in `sort` order, after `cursor` or `offset`, with the
        total number matching and the cursor of the next page. `InvalidCursor` for a cursor of another sort."""
        page = await self.reader.page(criteria or JobFilter(), sort, limit=limit, offset=offset, cursor=cursor)
        initiators: dict[str, Initiator] = {}
        jobs = [_row_to_job(page.rows[job_id], initiators) for job_id, _ in page.keys if job_id in page.rows]
        return JobListing(jobs, page.total, page.next_cursor)

    async def list_summaries(
        self,
        criteria: JobFilter,
        *,
        sort: SortOrder = NEWEST_FIRST,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
    ) -> SummaryListing:
        """`list_jobs` as `jobs.list` sends it: each job's summary as JSON, written once per change of the job; a
        page asked for again before the store changed is answered as it was, and one being read is waited for."""
        version = self.reader.version()
        key = (criteria.model_dump_json(), sort, limit, offset, cursor)
        listing = self.pages.get(version, key)
        if listing is not None:
            return listing
        reading = self._reading.get((version, key))
        if reading is None:
            # Clients that show the same list ask for it at once after each change: one read serves them all.
            reading = asyncio.ensure_future(
                self._read_summaries(criteria, sort=sort, limit=limit, offset=offset, cursor=cursor)
            )
            self._reading[(version, key)] = reading
            reading.add_done_callback(partial(self._page_read, version, key))
        return await asyncio.shield(reading)

    def _page_read(self, version: int, key: Hashable, reading: asyncio.Future[SummaryListing]) -> None:
        del self._reading[(version, key)]
        if not reading.cancelled() and reading.exception() is None:
            self.pages.put(version, key, reading.result())

    async def _read_summaries(
        self, criteria: JobFilter, *, sort: SortOrder, limit: int, offset: int, cursor: str | None
    ) -> SummaryListing:
        cache = self.summaries
        page = await self.reader.page(
            criteria,
            sort,
            limit=limit,
            offset=offset,
            cursor=cursor,
            wanted=lambda job_id, updated_at: cache.get(job_id, updated_at) is None,
        )
        texts: list[str] = []
        initiators: dict[str, Initiator] = {}
        for job_id, updated_at in page.keys:
            text = cache.get(job_id, updated_at)
            if text is None:
                row = page.rows.get(job_id)
                # None: the cached text was dropped after the page was read; the job is summarised as it is now
                job = _row_to_job(row, initiators) if row is not None else await self.get(job_id)
                text = job.to_summary().model_dump_json(by_alias=True)
                cache.put(job_id, job.updated_at, text)
            texts.append(text)
        return SummaryListing(texts, page.total, page.next_cursor)

    async def count_matching(self, criteria: JobFilter) -> int:
        """How many jobs match a filter."""
        return await self.reader.count(criteria)

    async def ids_matching(self, criteria: JobFilter) -> list[str]:
        """The ids of every job that matches a filter, oldest first."""
        return await self.reader.ids(criteria)

    async def count_by_state(self, *, since: float | None = None) -> dict[str, int]:
        """How many (non-deleted) jobs are in each state, optionally only those updated since a time."""
        sql = "SELECT state, COUNT(*) FROM jobs WHERE deleted_at IS NULL"
        params: tuple[Any, ...] = ()
        if since is not None:
            sql += " AND updated_at >= ?"
            params = (since,)
        async with self.db.connection.execute(sql + " GROUP BY state", params) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def unfinished(self) -> list[JobRecord]:
        """Every job that is not in a terminal state (resumed after a restart), oldest first."""
        terminal = [s.value for s in JobState if s.is_terminal]
        async with self.db.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE state NOT IN ({', '.join('?' * len(terminal))}) "
            "AND deleted_at IS NULL ORDER BY created_at",
            terminal,
        ) as cur:
            return [_row_to_job(row) for row in await cur.fetchall()]

    async def timeline(self, job_id: str) -> list[Transition]:
        """The job's transitions in order."""
        async with self.db.connection.execute(
            "SELECT from_state, to_state, at, reason FROM job_transitions WHERE job_id = ? AND from_state != '' "
            "ORDER BY id",
            (job_id,),
        ) as cur:
            return [
                Transition(JobState(r["from_state"]), JobState(r["to_state"]), r["at"], r["reason"])
                for r in await cur.fetchall()
            ]

    # -- checkpoints --------------------------------------------------------------------------------------

    async def save_checkpoint(self, job_id: str, stage: str, data: dict[str, Any]) -> None:
        """Record (replace) a checkpoint of a stage or of a driver's partial progress."""
        async with self.db.transaction() as conn:
            await self._put_checkpoint(conn, job_id, stage, data, time.time())

    @staticmethod
    async def _put_checkpoint(
        conn: aiosqlite.Connection, job_id: str, stage: str, data: dict[str, Any], now: float
    ) -> None:
        await conn.execute(
            "INSERT INTO job_checkpoints (job_id, stage, data, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (job_id, stage) DO UPDATE SET data = excluded.data, at = excluded.at",
            (job_id, stage, json.dumps(data), now),
        )

    async def checkpoints(self, job_id: str) -> dict[str, dict[str, Any]]:
        """All checkpoints of a job by stage name."""
        async with self.db.connection.execute(
            "SELECT stage, data FROM job_checkpoints WHERE job_id = ?", (job_id,)
        ) as cur:
            return {row["stage"]: json.loads(row["data"]) for row in await cur.fetchall()}

    async def add_checkpoint_items(self, job_id: str, stage: str, items: Mapping[str, Any]) -> None:
        """Record (replace) entries of a checkpoint kept entry by entry, e.g. a driver's finished attempts."""
        if not items:
            return
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO job_checkpoint_items (job_id, stage, key, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (job_id, stage, key) DO UPDATE SET data = excluded.data",
                [(job_id, stage, key, json.dumps(value)) for key, value in items.items()],
            )

    async def checkpoint_items(self, job_id: str, stage: str) -> dict[str, Any]:
        """Every entry of a checkpoint kept entry by entry, by key."""
        async with self.db.connection.execute(
            "SELECT key, data FROM job_checkpoint_items WHERE job_id = ? AND stage = ?", (job_id, stage)
        ) as cur:
            return {row["key"]: json.loads(row["data"]) for row in await cur.fetchall()}

    async def has_checkpoint(self, job_id: str, stage: str) -> bool:
        """Whether a checkpoint of `stage` exists, whole or entry by entry."""
        async with self.db.connection.execute(
            "SELECT EXISTS (SELECT 1 FROM job_checkpoints WHERE job_id = ? AND stage = ?) "
            "OR EXISTS (SELECT 1 FROM job_checkpoint_items WHERE job_id = ? AND stage = ?)",
            (job_id, stage, job_id, stage),
        ) as cur:
            row = await cur.fetchone()
        return bool(row and row[0])

    async def drop_checkpoints(self, job_id: str, stages: Iterable[str]) -> None:
        """Forget checkpoints whose outputs are gone, so their stages run again."""
        names = list(stages)
        if not names:
            return
        marks = ", ".join("?" * len(names))
        async with self.db.transaction() as conn:
            await conn.execute(f"DELETE FROM job_checkpoints WHERE job_id = ? AND stage IN ({marks})", (job_id, *names))
            await conn.execute(
                f"DELETE FROM job_checkpoint_items WHERE job_id = ? AND stage IN ({marks})", (job_id, *names)
            )

    # -- logs ---------------------------------------------------------------------------------------------

    async def add_log(self, job_id: str, level: str, message: str) -> LogEntry:
        """Append a log line to a job."""
        async with self.db.transaction() as conn:
            return await self._insert_log(conn, job_id, level, message, time.time())

    async def _insert_log(
        self, conn: aiosqlite.Connection, job_id: str, level: str, message: str, at: float
    ) -> LogEntry:
        """One log line and its `job.log` event (live log of the TUI, `jobs logs --follow`)."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        message = storable_text(message)
        cursor = await conn.execute(
            "INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)", (job_id, at, level, message)
        )
        entry = LogEntry(cursor.lastrowid or 0, job_id, at, level, message)
        await self.outbox.record(conn, JobLogged.model_validate(entry.to_wire().model_dump()), job_id=job_id)
        return entry

    async def logs(
        self, job_id: str, *, before_id: int | None = None, limit: int = 200, min_level: str = "debug"
    ) -> list[LogEntry]:
        """A page of log lines, newest first, older than `before_id` (paging backwards)."""
        levels = LOG_LEVELS[LOG_LEVELS.index(min_level) :]
        params: list[Any] = [job_id, *levels]
        placeholders = ", ".join("?" * len(levels))
        sql = f"SELECT id, job_id, at, level, message FROM job_logs WHERE job_id = ? AND level IN ({placeholders})"
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        async with self.db.connection.execute(sql, params) as cur:
            return [LogEntry(r[0], r[1], r[2], r[3], r[4]) for r in await cur.fetchall()]

    # -- artifacts ----------------------------------------------------------------------------------------

    async def add_artifact(self, job_id: str, name: str, size: int, sha256: str, retain_until: float | None) -> int:
        """Record the archive a job built (idempotent per job and name); returns its id."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO artifacts (job_id, name, size, sha256, created_at, retain_until) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id, name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, "
                "retain_until = excluded.retain_until",
                (job_id, name, size, sha256, time.time(), retain_until),
            )
            async with conn.execute("SELECT id FROM artifacts WHERE job_id = ? AND name = ?", (job_id, name)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def add_location(
        self, artifact_id: int, location: StoredLocation, *, job_id: str, settles_pending: bool = False
    ) -> None:
        """Record a verified copy of an artifact on a target, with its outbox event; `settles_pending`: the copy was
        pending on that target (`pending_copies`), which it leaves in the same transaction, so that no reader sees
        the copy both made and pending."""
        async with self.db.transaction() as conn:
            if settles_pending:
                await conn.execute(
                    "DELETE FROM pending_copies WHERE artifact_id = ? AND target = ?", (artifact_id, location.target)
                )
            await conn.execute(
                "INSERT INTO artifact_locations (artifact_id, target, location, size, sha256, stored_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_id, target) DO UPDATE SET "
                "location = excluded.location, size = excluded.size, sha256 = excluded.sha256, "
                "stored_at = excluded.stored_at, deleted_at = NULL",
                (
                    artifact_id,
                    location.target,
                    location.location,
                    location.size,
                    location.sha256,
                    location.stored_at,
                ),
            )
            completed = StorageWriteCompleted.model_validate(location.to_wire().model_dump())
            await self.outbox.record(conn, completed, job_id=job_id)

    async def mark_location_deleted(self, artifact_id: int, target: str) -> None:
        """Record that a stored copy was deleted (the row stays)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE artifact_locations SET deleted_at = ? WHERE artifact_id = ? AND target = ?",
                (time.time(), artifact_id, target),
            )

    async def artifacts(self, job_id: str) -> list[Artifact]:
        """A job's artifacts with their locations."""
        async with self.db.connection.execute(
            "SELECT id, job_id, name, size, sha256, created_at, retain_until FROM artifacts WHERE job_id = ? "
            "ORDER BY id",
            (job_id,),
        ) as cur:
            artifacts = [Artifact(*row) for row in await cur.fetchall()]
        for artifact in artifacts:
            async with self.db.connection.execute(
                "SELECT target, location, size, sha256, stored_at, deleted_at FROM artifact_locations "
                "WHERE artifact_id = ? ORDER BY target",
                (artifact.id,),
            ) as cur:
                artifact.locations = [StoredLocation(*row) for row in await cur.fetchall()]
        return artifacts

    async def storage_totals(self) -> dict[str, tuple[int, int]]:
        """Per target: number of archives and bytes currently stored (deleted copies not counted)."""
        async with self.db.connection.execute(
            "SELECT target, COUNT(*), COALESCE(SUM(size), 0) FROM artifact_locations WHERE deleted_at IS NULL "
            "GROUP BY target"
        ) as cur:
            return {row[0]: (row[1], row[2]) for row in await cur.fetchall()}
