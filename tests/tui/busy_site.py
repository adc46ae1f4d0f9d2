"""A real daemon with many jobs, and a failure storm on it: for the TUI's scale tests and `bench/tui_burst.py`.

The store is filled before the daemon starts (through the store API, as the daemon writes jobs; then marked
completed in one statement), so 10,000 jobs take seconds. The storm is real: test-driver jobs that fail at once
(`fatal`), queued by several clients in parallel while the TUI watches.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from archived.protocol.states import JobState
from archived.rpc.client import RpcClient
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord

# Where the daemon of `tests.support.daemon.write_config` keeps its store.
STORE_FILE = Path("state") / "archived.sqlite3"


async def fill_store(path: Path, count: int) -> None:
    """`count` completed test-driver jobs, created one a second up to now (course 1-50, cmid 100-499)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(path)
    store = JobStore(db)
    start = time.time() - count
    for index in range(count):
        job = JobRecord(
            id=str(uuid.UUID(int=index + 1)), driver="slowtest", course_id=1 + index % 50, cmid=100 + index % 400,
            initiator=Initiator("schedule", "nightly"), settings={"job": {}, "activity": {}},
            state=JobState.QUEUED, timeout_seconds=7200, created_at=start + index, updated_at=start + index,
            course_name=f"Course {index % 50}", activity_name=f"Exam {index % 400}",
        )  # fmt: skip
        await store.create(job)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE jobs SET state = 'completed', progress = 100, started_at = created_at, "
            "finished_at = created_at + 60"
        )
    await db.close()


async def fail_burst(
    socket: Path, count: int, *, clients: int = 8, course_id: int = 77, cmid_base: int = 5000
) -> list[str]:
    """Queue `count` jobs that fail at once (`fatal`), from `clients` connections in parallel; their ids."""
    ids: list[str] = []

    async def queue(share: range) -> None:
        async with RpcClient(socket, client_name="burst") as client:
            for n in share:
                params = {"course_id": course_id, "cmid": cmid_base + n, "driver": "slowtest",
                          "settings": {"fatal": True, "files": 0}}  # fmt: skip
                answer = await client.call("jobs.create", params)
                ids.append(str(answer["job"]["id"]))

    await asyncio.gather(*(queue(range(i, count, clients)) for i in range(clients)))
    return ids


async def count_jobs(client: RpcClient, **criteria: object) -> int:
    """How many jobs the daemon lists for `criteria`."""
    return int((await client.call("jobs.list", {**criteria, "limit": 1}))["total"])
