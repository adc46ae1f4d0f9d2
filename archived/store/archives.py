"""Finding stored archives: the archives of jobs that are not deleted and have at least one copy, by course, activity
and target, newest first; and an archive by its file name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archived.store.database import Database
from archived.store.records import Artifact, StoredLocation

_LIVE_COPY = "EXISTS (SELECT 1 FROM artifact_locations l WHERE l.artifact_id = a.id AND l.deleted_at IS NULL{})"


@dataclass
class ListedArchive:
    """An archive with the job facts a listing shows (its copies are in `artifact.locations`, live ones only)."""

    artifact: Artifact
    course_id: int
    cmid: int
    course_name: str
    activity_name: str


class ArchiveIndex:
    """Queries over the artifacts of jobs that are not deleted."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(
        self,
        *,
        course_id: int | None = None,
        cmid: int | None = None,
        target: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[ListedArchive], int]:
        """A page of stored archives, newest first, and how many match in all."""
        clauses = ["j.deleted_at IS NULL", _LIVE_COPY.format(" AND l.target = ?" if target else "")]
        params: list[Any] = [target] if target else []
        if course_id is not None:
            clauses.append("j.course_id = ?")
            params.append(course_id)
        if cmid is not None:
            clauses.append("j.cmid = ?")
            params.append(cmid)
        where = " AND ".join(clauses)
        source = f"FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE {where}"
        async with self.db.connection.execute(f"SELECT COUNT(*) {source}", params) as cur:
            row = await cur.fetchone()
        total = int(row[0]) if row else 0
        async with self.db.connection.execute(
            "SELECT a.id, a.job_id, a.name, a.size, a.sha256, a.created_at, a.retain_until, j.course_id, j.cmid, "
            f"j.course_name, j.activity_name {source} ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ) as cur:
            rows = await cur.fetchall()
        listed = [ListedArchive(Artifact(*row[:7]), *row[7:]) for row in rows]
        await self._add_live_locations([item.artifact for item in listed])
        return listed, total

    async def by_name(self, name: str) -> list[Artifact]:
        """The archives (of jobs not deleted) called `name`, with their live copies; two jobs may have built
        archives of the same name (the same activity in the same second)."""
        async with self.db.connection.execute(
            "SELECT a.id, a.job_id, a.name, a.size, a.sha256, a.created_at, a.retain_until FROM artifacts a "
            "JOIN jobs j ON j.id = a.job_id WHERE a.name = ? AND j.deleted_at IS NULL ORDER BY a.id",
            (name,),
        ) as cur:
            artifacts = [Artifact(*row) for row in await cur.fetchall()]
        await self._add_live_locations(artifacts)
        return artifacts

    async def of_jobs_like(self, prefix: str) -> list[Artifact]:
        """The stored archives (with a live copy) of jobs not deleted whose id starts with `prefix` (4 characters or
        more: a shorter one would match too much to mean one job)."""
        if len(prefix) < 4:
            return []
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self.db.connection.execute(
            "SELECT a.id, a.job_id, a.name, a.size, a.sha256, a.created_at, a.retain_until FROM artifacts a "
            f"JOIN jobs j ON j.id = a.job_id WHERE j.id LIKE ? ESCAPE '\\' AND j.deleted_at IS NULL AND "
            f"{_LIVE_COPY.format('')} ORDER BY a.job_id, a.id",
            (escaped + "%",),
        ) as cur:
            artifacts = [Artifact(*row) for row in await cur.fetchall()]
        await self._add_live_locations(artifacts)
        return artifacts

    async def _add_live_locations(self, artifacts: list[Artifact]) -> None:
        if not artifacts:
            return
        by_id = {artifact.id: artifact for artifact in artifacts}
        marks = ", ".join("?" * len(by_id))
        async with self.db.connection.execute(
            "SELECT artifact_id, target, location, size, sha256, stored_at, deleted_at FROM artifact_locations "
            f"WHERE artifact_id IN ({marks}) AND deleted_at IS NULL ORDER BY artifact_id, target",
            list(by_id),
        ) as cur:
            for row in await cur.fetchall():
                by_id[row[0]].locations.append(StoredLocation(*row[1:]))
