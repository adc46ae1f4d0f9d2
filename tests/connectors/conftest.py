"""Connectors against a real store and dispatcher: a job store on a temporary folder, connectors built from a
`[connectors.*]` table as the daemon builds them, and helpers that make jobs and stored archives emit events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from archived.config import parse_config
from archived.connectors.service import Connectors
from archived.events.dispatcher import EventDispatcher
from archived.protocol.states import JobState
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord, StoredLocation

HOUR = 3600.0  # a safety poll that never comes within a test: lanes are woken by commits


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    db = await Database.open(tmp_path / "archived.sqlite3")
    yield JobStore(db)
    await db.close()


def secret_file(folder: Path, name: str, value: str) -> Path:
    """A secret in a file only its owner reads (as `read_secret` demands)."""
    path = folder / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


@asynccontextmanager
async def running(store: JobStore, connectors: dict[str, dict[str, Any]]) -> AsyncIterator[Connectors]:
    """Connectors built from `connectors` (the `[connectors.*]` tables), each on a dispatcher lane."""
    config = parse_config({"connectors": connectors})
    built = Connectors(config, store)
    dispatcher = EventDispatcher(store.outbox, list(built.consumers.values()), poll_seconds=HOUR)
    await dispatcher.start()
    try:
        yield built
    finally:
        await dispatcher.stop(flush_seconds=0)
        await built.close()


async def add_job(store: JobStore, job_id: str, *, course_id: int = 2, cmid: int = 7) -> JobRecord:
    """A queued job (its `job.created` event goes to the outbox)."""
    now = time.time()
    job = JobRecord(
        id=job_id, driver="quiz", course_id=course_id, cmid=cmid, initiator=Initiator("operator", "tester"),
        settings={}, state=JobState.QUEUED, timeout_seconds=60, created_at=now, updated_at=now,
        course_name="Linear Algebra", activity_name="Final exam",
    )  # fmt: skip
    await store.create(job)
    return job


async def store_archive(store: JobStore, job_id: str, *, sha256: str = "ab" * 32, target: str = "local") -> int:
    """An archive of the job stored on `target` (its `storage.write.completed` event goes to the outbox)."""
    artifact = await store.add_artifact(job_id, f"{job_id}.zip", 1234, sha256, None)
    location = StoredLocation(target, f"2026/{job_id}.zip", 1234, sha256, time.time())
    await store.add_location(artifact, location, job_id=job_id)
    return artifact


async def index_people(store: JobStore, artifact: int, *people: tuple[int, str, str, str]) -> None:
    """What the people index records once it has read an archive: its people (userid, idnumber, first, last)."""
    async with store.db.transaction() as conn:
        for userid, idnumber, first, last in people:
            await conn.execute(
                "INSERT INTO people_index (artifact_id, site, userid, username, idnumber, firstname, lastname) "
                "VALUES (?, 'site', ?, ?, ?, ?, ?)",
                (artifact, userid, first.lower(), idnumber, first, last),
            )
        await conn.execute(
            "INSERT INTO people_indexed (artifact_id, attempted_at, indexed_at, people) VALUES (?, 0, 0, ?)",
            (artifact, len(people)),
        )


async def until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Wait for `condition` (no timing assertion: the timeout only ends a test that would hang)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        await asyncio.sleep(0.02)


async def until_async(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
    """`until` for a coroutine condition."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        await asyncio.sleep(0.02)
