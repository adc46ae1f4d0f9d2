"""Schedules against the Moodle simulator over HTTP, the real course overview and quiz driver, and a real store,
with a clock the tests move (no waiting for cron times)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archived.config import PolicyConfig, parse_config
from archived.events.bus import EventBus
from archived.interfaces.activity import DriverEnvironment
from archived.moodle.factory import build_moodle_api
from archived.overview.index import CourseIndex
from archived.plugins import activity_drivers
from archived.protocol.states import JobState
from archived.schedules.records import ScheduleRecords
from archived.schedules.service import ScheduleService
from archived.simulator.simulator import MoodleSimulator
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord

DAY = 86400.0
# Monday 2027-01-04 00:30 in Berlin (23:30 UTC the day before): the next "0 2 * * mon-fri" is 90 minutes away.
MONDAY_0030_BERLIN = 1_799_019_000.0
EXAM_QUIZ, MIDTERM_QUIZ = 2, 4  # cmids: course 2's exam (category 3), course 3's midterm (category 2)
EXAM_QUIZ_ID, MIDTERM_QUIZ_ID = 1, 2


class Clock:
    """The time the service sees; tests move it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class StoreJobs:
    """Stands in for the engine's `create_job`: the job is written to the real store as queued (and nothing runs it,
    so it stays unfinished, as a running job would)."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    async def create_job(
        self, *, driver: str, course_id: int, cmid: int, requested: dict[str, Any], initiator: Initiator,
        course_name: str = "", activity_name: str = "",
    ) -> tuple[JobRecord, list[str]]:  # fmt: skip
        now = time.time()
        job = JobRecord(
            id=str(uuid.uuid4()), driver=driver, course_id=course_id, cmid=cmid, course_name=course_name,
            activity_name=activity_name, initiator=initiator, settings={}, state=JobState.QUEUED,
            timeout_seconds=60, created_at=now, updated_at=now,
        )  # fmt: skip
        await self.store.create(job)
        return job, []


@dataclass
class Site:
    """The simulator, the store, the overview and a way to build the schedule service (again, as after a restart)."""

    sim: MoodleSimulator
    store: JobStore
    index: CourseIndex
    clock: Clock

    def service(self, policy: PolicyConfig | None = None) -> ScheduleService:
        return ScheduleService(
            records=ScheduleRecords(self.store.db, self.store.outbox), index=self.index, jobs=StoreJobs(self.store),
            store=self.store, policy=policy or PolicyConfig(), clock=self.clock,
        )  # fmt: skip

    def close_quiz(self, quiz_id: int, at: float) -> None:
        with self.sim.world.lock:
            self.sim.world.quizzes[quiz_id].timeclose = int(at)

    async def jobs(self) -> list[tuple[int, str]]:
        """(cmid, initiator) of every job, oldest first."""
        async with self.store.db.connection.execute("SELECT cmid, initiator FROM jobs ORDER BY created_at") as cur:
            return [(int(row[0]), str(json.loads(row[1])["name"])) for row in await cur.fetchall()]

    async def events(self, kind: str) -> list[dict[str, Any]]:
        async with self.store.db.connection.execute(
            "SELECT payload FROM events WHERE kind = ? ORDER BY id", (kind,)
        ) as cur:
            return [json.loads(row[0]) for row in await cur.fetchall()]

    async def mark_archived(self, job: JobRecord, fingerprint: str) -> None:
        """The job completed with this fingerprint (as the engine records it)."""
        async with self.store.db.transaction() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'completed', finished_at = ?, fingerprint = ? WHERE id = ?",
                (time.time(), fingerprint, job.id),
            )


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        token = tmp_path / "token"
        token.write_text(sim.token)
        token.chmod(0o600)
        config = parse_config({"moodle": {"url": sim.url, "token_file": str(token), "requests_per_second": 0}})
        assert config.moodle is not None
        api = build_moodle_api(config.moodle, sim.token)
        db = await Database.open(tmp_path / "archived.sqlite3")
        store = JobStore(db)
        quiz = activity_drivers()["quiz"](DriverEnvironment(moodle=api, temp_dir=tmp_path))
        index = CourseIndex(
            api=api, moodle=config.moodle, refresh_cooldown=0, drivers={"quiz": quiz}, store=store, bus=EventBus()
        )  # fmt: skip
        clock = Clock(MONDAY_0030_BERLIN)
        yield Site(sim, store, index, clock)
        await db.close()
        await api.client.aclose()
