"""The users ever seen in a course: who Moodle listed as enrolled (or who had work in an activity) at any overview
refresh or job, with their names as seen last, so that a student whose enrolment was removed since is still looked
for (Moodle lists only current enrolments, yet keeps their attempts)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from archived.interfaces.activity import IncludedUser
from archived.storable_text import storable_text
from archived.store.database import Database


class CourseUserStore:
    """Reads and records the users ever seen per course (implements the driver contract's `CourseUsers`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def remember(self, course_id: int, users: Sequence[IncludedUser]) -> None:
        """Record these users as seen in the course now; their names replace those seen before."""
        if not users:
            return
        now = time.time()
        rows = [
            (course_id, u.id, storable_text(u.username), storable_text(u.firstname), storable_text(u.lastname),
             storable_text(u.idnumber), now, now)
            for u in users
        ]  # fmt: skip
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO course_users_seen (course_id, user_id, username, firstname, lastname, idnumber, "
                "first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (course_id, user_id) DO UPDATE SET username = excluded.username, "
                "firstname = excluded.firstname, lastname = excluded.lastname, idnumber = excluded.idnumber, "
                "last_seen_at = excluded.last_seen_at",
                rows,
            )

    async def known(self, course_id: int) -> list[IncludedUser]:
        """Every user ever seen in the course, by id."""
        async with (
            self.db.committed_view() as conn,
            conn.execute(
                "SELECT user_id, username, firstname, lastname, idnumber FROM course_users_seen "
                "WHERE course_id = ? ORDER BY user_id",
                (course_id,),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [IncludedUser(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]
