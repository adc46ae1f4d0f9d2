"""Schedules and their runs in the job store (`schedules`, `schedule_runs`): the store is the truth about what
exists, when each runs next and what every run did; APScheduler only keeps time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archived.errors import FatalError
from archived.protocol.events import EventPayload, JobEvent
from archived.protocol.schedules import RunTrigger, SelectedActivity, SelectionRule, SkippedActivity
from archived.store.database import Database
from archived.store.events import EventOutbox


class ScheduleNotFound(FatalError):
    """No schedule has that name."""

    code = "not_found"


class ScheduleExists(FatalError):
    """A schedule with that name exists already."""

    code = "invalid_state"


@dataclass
class ScheduleRecord:
    """One schedule as stored."""

    name: str
    cron: str
    timezone: str
    rule: SelectionRule
    enabled: bool
    next_run_at: float | None
    last_selected_at: float | None
    idle_reported_at: float | None
    created_at: float
    updated_at: float


@dataclass
class RunRecord:
    """One run of a schedule as stored."""

    id: int
    schedule: str
    trigger: RunTrigger
    dry_run: bool
    missed: int
    started_at: float
    finished_at: float | None
    selected: list[SelectedActivity]
    skipped: list[SkippedActivity]
    error: str


_SCHEDULE = (
    "name, cron, timezone, rule, enabled, next_run_at, last_selected_at, idle_reported_at, created_at, updated_at"
)
_RUN = "id, schedule, trigger, dry_run, missed, started_at, finished_at, selected, skipped, error"


def _schedule(row: tuple[object, ...]) -> ScheduleRecord:
    return ScheduleRecord(
        str(row[0]), str(row[1]), str(row[2]), SelectionRule.model_validate_json(str(row[3])), bool(row[4]),
        _float(row[5]), _float(row[6]), _float(row[7]), float(str(row[8])), float(str(row[9])),
    )  # fmt: skip


def _run(row: tuple[object, ...]) -> RunRecord:
    return RunRecord(
        int(str(row[0])), str(row[1]), RunTrigger(str(row[2])), bool(row[3]), int(str(row[4])), float(str(row[5])),
        _float(row[6]), [SelectedActivity.model_validate(s) for s in json.loads(str(row[7]))],
        [SkippedActivity.model_validate(s) for s in json.loads(str(row[8]))], str(row[9]),
    )  # fmt: skip


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


class ScheduleRecords:
    """Reads and writes schedules and their runs; a run's events are written with it."""

    def __init__(self, db: Database, outbox: EventOutbox) -> None:
        self.db = db
        self.outbox = outbox

    async def add(self, record: ScheduleRecord) -> None:
        """Store a new schedule; `ScheduleExists` if the name is taken."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM schedules WHERE name = ?", (record.name,)) as cur:
                if await cur.fetchone() is not None:
                    raise ScheduleExists(
                        f"a schedule named {record.name!r} exists already; edit it (archived schedules edit) or "
                        "choose another name"
                    )
            await conn.execute(
                f"INSERT INTO schedules ({_SCHEDULE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.name, record.cron, record.timezone, record.rule.model_dump_json(), int(record.enabled),
                 record.next_run_at, record.last_selected_at, record.idle_reported_at, record.created_at,
                 record.updated_at),
            )  # fmt: skip

    async def save(self, record: ScheduleRecord) -> None:
        """Write an existing schedule's fields back."""
        record.updated_at = time.time()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET cron = ?, timezone = ?, rule = ?, enabled = ?, next_run_at = ?, "
                "last_selected_at = ?, idle_reported_at = ?, updated_at = ? WHERE name = ?",
                (record.cron, record.timezone, record.rule.model_dump_json(), int(record.enabled),
                 record.next_run_at, record.last_selected_at, record.idle_reported_at, record.updated_at,
                 record.name),
            )  # fmt: skip
            if cursor.rowcount == 0:
                raise _not_found(record.name)

    async def mark_ran(self, name: str, *, next_run_at: float | None, selected_at: float | None) -> None:
        """After a run: its next cron time (None: unchanged) and when it last selected something (None: unchanged).
        Only these columns, so an edit made while the run read Moodle stays."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE schedules SET next_run_at = COALESCE(?, next_run_at), "
                "last_selected_at = COALESCE(?, last_selected_at) WHERE name = ?",
                (next_run_at, selected_at, name),
            )

    async def mark_idle_reported(self, name: str, at: float) -> None:
        """The schedule was reported as selecting nothing for too long."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE schedules SET idle_reported_at = ? WHERE name = ?", (at, name))

    async def remove(self, name: str) -> None:
        """Delete a schedule; its runs stay as the record of what it did."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM schedules WHERE name = ?", (name,))
            if cursor.rowcount == 0:
                raise _not_found(name)

    async def get(self, name: str) -> ScheduleRecord:
        """One schedule; `ScheduleNotFound` naming the known ones otherwise."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(f"SELECT {_SCHEDULE} FROM schedules WHERE name = ?", (name,)) as cur,
        ):
            row = await cur.fetchone()
        if row is None:
            raise _not_found(name)
        return _schedule(tuple(row))

    async def all(self) -> list[ScheduleRecord]:
        """Every schedule by name."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(f"SELECT {_SCHEDULE} FROM schedules ORDER BY name") as cur,
        ):
            return [_schedule(tuple(row)) for row in await cur.fetchall()]

    async def record_run(self, run: RunRecord, events: Callable[[int], list[EventPayload]]) -> int:
        """Store a finished run and its events (made knowing the run's id) in one transaction; returns the id."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO schedule_runs (schedule, trigger, dry_run, missed, started_at, finished_at, selected, "
                "skipped, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.schedule, run.trigger.value, int(run.dry_run), run.missed, run.started_at, run.finished_at,
                 json.dumps([s.model_dump(mode="json") for s in run.selected]),
                 json.dumps([s.model_dump(mode="json") for s in run.skipped]), run.error),
            )  # fmt: skip
            run.id = int(cursor.lastrowid or 0)
            for event in events(run.id):
                await self.outbox.record(conn, event, job_id=None)
        return run.id

    async def record_events(self, events: Sequence[EventPayload]) -> None:
        """Write notifications (an idle schedule, a failed scheduled job) to the outbox."""
        async with self.db.transaction() as conn:
            for event in events:
                await self.outbox.record(conn, event, job_id=event.job.id if isinstance(event, JobEvent) else None)

    async def runs(self, name: str, limit: int) -> list[RunRecord]:
        """A schedule's runs, newest first (also of a removed schedule)."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                f"SELECT {_RUN} FROM schedule_runs WHERE schedule = ? ORDER BY id DESC LIMIT ?", (name, limit)
            ) as cur,
        ):
            return [_run(tuple(row)) for row in await cur.fetchall()]

    async def last_run(self, name: str) -> RunRecord | None:
        """A schedule's newest run."""
        runs = await self.runs(name, 1)
        return runs[0] if runs else None

    async def remind(self, rule: str, cmid: int, *, now: float, every: float, event: EventPayload) -> bool:
        """Record a policy reminder unless one for this rule and activity was sent within `every` seconds."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT reminded_at FROM policy_reminders WHERE rule = ? AND cmid = ?", (rule, cmid)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and now - float(row[0]) < every:
                return False
            await conn.execute(
                "INSERT OR REPLACE INTO policy_reminders (rule, cmid, reminded_at) VALUES (?, ?, ?)", (rule, cmid, now)
            )
            await self.outbox.record(conn, event, job_id=None)
        return True


def _not_found(name: str) -> ScheduleNotFound:
    return ScheduleNotFound(f"no schedule named {name!r} (archived schedules list shows them)")
