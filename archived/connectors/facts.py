"""What a connector knows about an event beyond its body: the job it concerns (its course, for the filters; its
summary, for templates), the people whose records a stored archive holds, and which courses a category contains."""

from __future__ import annotations

import time
from typing import Any, Protocol

from archived.connectors.body import EventBody
from archived.store.jobs import JobNotFound, JobStore

CATEGORY_CACHE_SECONDS = 300.0  # the course overview changes rarely; a category filter need not ask it per event


class CourseListing(Protocol):
    """Lists the courses of a category, subcategories included (the daemon's course overview)."""

    async def list_courses(
        self, *, category_id: int | None, search: str | None, badge: str | None, limit: int, offset: int
    ) -> dict[str, Any]: ...


class EventFacts:
    """Looks up what filters and templates need about an event, from the store and the course overview."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self.courses: CourseListing | None = None  # set by the daemon once the overview exists
        self._categories: dict[int, tuple[float, set[int]]] = {}

    async def job(self, body: EventBody) -> dict[str, Any] | None:
        """The job's summary as `jobs.list` shows it now (None for an event about no job, or a job gone)."""
        job = body.data.get("job")
        if isinstance(job, dict):
            return job
        if body.job_id is None:
            return None
        try:
            record = await self.store.get(body.job_id)
        except JobNotFound:
            return None
        return record.to_summary().model_dump(mode="json")

    async def people(self, body: EventBody) -> list[dict[str, Any]] | None:
        """For a stored archive (`storage.write.completed`): the people it holds records of, as the people index
        read them from the archive; None while the index has not read it yet (it does so in the background)."""
        sha256 = body.data.get("sha256")
        if body.job_id is None or not isinstance(sha256, str):
            return []
        async with self.store.db.committed_view() as conn:
            async with conn.execute(
                "SELECT a.id FROM artifacts a JOIN people_indexed i ON i.artifact_id = a.id "
                "WHERE a.job_id = ? AND a.sha256 = ? AND i.indexed_at IS NOT NULL",
                (body.job_id, sha256),
            ) as cur:
                indexed = await cur.fetchone()
            if indexed is None:
                return None
            async with conn.execute(
                "SELECT userid, username, idnumber, firstname, lastname, attempts FROM people_index "
                "WHERE artifact_id = ? ORDER BY lastname, firstname, userid",
                (indexed[0],),
            ) as cur:
                rows = await cur.fetchall()
        keys = ("userid", "username", "idnumber", "firstname", "lastname", "attempts")
        return [dict(zip(keys, tuple(row), strict=True)) for row in rows]

    async def courses_in(self, category_id: int) -> set[int]:
        """The ids of the courses in a category and its subcategories (cached for a few minutes)."""
        cached = self._categories.get(category_id)
        if cached is not None and time.monotonic() - cached[0] < CATEGORY_CACHE_SECONDS:
            return cached[1]
        if self.courses is None:
            raise LookupError("the course overview is not available (is [moodle] configured?)")
        answer = await self.courses.list_courses(
            category_id=category_id, search=None, badge=None, limit=1_000_000, offset=0
        )
        ids = {int(course["id"]) for course in answer["courses"]}
        self._categories[category_id] = (time.monotonic(), ids)
        return ids
