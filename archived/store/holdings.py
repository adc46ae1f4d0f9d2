"""What the storage targets hold: every archive that still has a stored copy, with its job and its copies (for the
retention sweep, timestamp renewal and the people index)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from archived.protocol.states import JobState
from archived.store.database import Database


@dataclass(frozen=True)
class HeldCopy:
    """One stored copy of an archive on one target (not deleted)."""

    target: str
    location: str
    size: int
    sha256: str
    stored_at: float


@dataclass
class HeldArchive:
    """An archive (a job's artifact) that still has at least one stored copy."""

    artifact_id: int
    job_id: str
    name: str
    size: int
    sha256: str
    created_at: float
    retain_until: float | None
    course_name: str = ""
    activity_name: str = ""
    copies: list[HeldCopy] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How messages name the archive: its file name and its job."""
        return f"{self.name} (job {self.job_id})"


_SELECT = (
    "SELECT a.id, a.job_id, a.name, a.size, a.sha256, a.created_at, a.retain_until, j.course_name, j.activity_name, "
    "l.target, l.location, l.size, l.sha256, l.stored_at "
    "FROM artifacts a JOIN jobs j ON j.id = a.job_id JOIN artifact_locations l ON l.artifact_id = a.id "
    "WHERE l.deleted_at IS NULL AND j.state IN (SELECT value FROM json_each(?))"
)
# A failed job may have stored copies too (an optional target written before a required one failed): they hold the
# same data and age the same way. Jobs still running are left alone.
_ENDED = json.dumps(sorted(state.value for state in JobState if state.is_terminal))


async def held_archives(
    db: Database,
    *,
    expired_before: float | None = None,
    job_id: str | None = None,
    artifact_ids: Iterable[int] | None = None,
) -> list[HeldArchive]:
    """Archives of ended jobs with their live copies, oldest first; filtered by retain-until date (strictly
    before), by job, or by artifact id."""
    sql = _SELECT
    params: list[Any] = [_ENDED]
    if expired_before is not None:
        sql += " AND a.retain_until IS NOT NULL AND a.retain_until < ?"
        params.append(expired_before)
    if job_id is not None:
        sql += " AND a.job_id = ?"
        params.append(job_id)
    if artifact_ids is not None:
        sql += " AND a.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(set(artifact_ids))))
    sql += " ORDER BY a.created_at, a.id, l.target"
    async with db.connection.execute(sql, params) as cur:
        rows = await cur.fetchall()
    archives: dict[int, HeldArchive] = {}
    for row in rows:
        (artifact_id, job, name, size, sha256, created_at, retain_until, course, activity,
         target, location, copy_size, copy_sha, stored_at) = row  # fmt: skip
        held = archives.get(artifact_id)
        if held is None:
            held = archives[artifact_id] = HeldArchive(
                artifact_id, job, name, size, sha256, created_at, retain_until, course, activity
            )
        held.copies.append(HeldCopy(target, location, copy_size, copy_sha, stored_at))
    return list(archives.values())
