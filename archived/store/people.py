"""The people index: which Moodle users (id, username, ID number, names) are inside which stored archive, read from
the archives themselves, and which archives are indexed, waiting, or could not be read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from archived.protocol.states import JobState
from archived.storable_text import storable_text
from archived.store.database import Database


class PersonKey(StrEnum):
    """What a lookup matches: the Moodle user id, the username or the ID number (matriculation number)."""

    ANY = "any"
    ID = "id"
    USERNAME = "username"
    IDNUMBER = "idnumber"


@dataclass(frozen=True)
class IndexedPerson:
    """One person as one archive holds them."""

    site: str
    userid: int
    username: str = ""
    idnumber: str = ""
    firstname: str = ""
    lastname: str = ""
    attempts: int = 0  # quiz: their attempts.csv rows; assignment: submissions.csv's attempts


@dataclass(frozen=True)
class PersonInArchive:
    """A match of a lookup: the person and the archive that holds their data."""

    artifact_id: int
    person: IndexedPerson
    matched: str  # which key matched: "id", "username" or "idnumber"


@dataclass(frozen=True)
class IndexState:
    """Whether an archive is indexed, and if reading it failed, why and when it was last tried."""

    artifact_id: int
    attempted_at: float
    indexed_at: float | None
    source: str
    people: int
    problem: str | None


class PeopleIndexStore:
    """Reads and writes the people index."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def replace(self, artifact_id: int, people: Sequence[IndexedPerson], *, source: str) -> None:
        """Index an archive (replacing what was indexed of it before) from a verified copy named by `source`."""
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM people_index WHERE artifact_id = ?", (artifact_id,))
            await conn.executemany(
                "INSERT INTO people_index (artifact_id, site, userid, username, idnumber, firstname, lastname, "
                "attempts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_id, site, userid) DO UPDATE SET "
                "attempts = attempts + excluded.attempts",
                [
                    (artifact_id, storable_text(p.site), p.userid, storable_text(p.username),
                     storable_text(p.idnumber), storable_text(p.firstname), storable_text(p.lastname), p.attempts)
                    for p in people
                ],
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO people_indexed (artifact_id, attempted_at, indexed_at, source, people, problem) "
                "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (artifact_id) DO UPDATE SET "
                "attempted_at = excluded.attempted_at, "
                "indexed_at = excluded.indexed_at, source = excluded.source, people = excluded.people, problem = NULL",
                (artifact_id, now, now, storable_text(source), len(people)),
            )

    async def record_problem(self, artifact_id: int, problem: str) -> None:
        """Record that an archive could not be indexed (no verified copy could be read); what was indexed stays."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO people_indexed (artifact_id, attempted_at, problem) VALUES (?, ?, ?) "
                "ON CONFLICT (artifact_id) DO UPDATE SET attempted_at = excluded.attempted_at, "
                "problem = excluded.problem",
                (artifact_id, time.time(), storable_text(problem)),
            )

    async def anything_to_read(self, *, failed_before: float) -> bool:
        """Whether a stored archive of an ended job was never read, or failed before `failed_before` (one query,
        cheap enough to ask at every housekeeping tick)."""
        async with self.db.connection.execute(
            "SELECT 1 FROM artifacts a JOIN jobs j ON j.id = a.job_id "
            "LEFT JOIN people_indexed i ON i.artifact_id = a.id "
            "WHERE j.state IN (SELECT value FROM json_each(?)) "
            "AND (i.artifact_id IS NULL OR (i.indexed_at IS NULL AND i.attempted_at < ?)) "
            "AND EXISTS (SELECT 1 FROM artifact_locations l WHERE l.artifact_id = a.id AND l.deleted_at IS NULL) "
            "LIMIT 1",
            (_ENDED, failed_before),
        ) as cur:
            return await cur.fetchone() is not None

    async def states(self, artifact_ids: Sequence[int]) -> dict[int, IndexState]:
        """The index state of each of these archives (missing: never tried)."""
        async with self.db.connection.execute(
            "SELECT artifact_id, attempted_at, indexed_at, source, people, problem FROM people_indexed "
            "WHERE artifact_id IN (SELECT value FROM json_each(?))",
            (_json_ids(artifact_ids),),
        ) as cur:
            return {row[0]: IndexState(*row) for row in await cur.fetchall()}

    async def find(self, query: str, key: PersonKey = PersonKey.ANY) -> list[PersonInArchive]:
        """Every indexed archive holding a person whose id, username or ID number is `query` (usernames compared
        case-insensitively, as Moodle stores them in lower case)."""
        clauses: list[tuple[str, str, object]] = []
        text = query.strip()
        if key in (PersonKey.ANY, PersonKey.ID) and text.isdigit():
            clauses.append(("id", "userid = ?", int(text)))
        if key in (PersonKey.ANY, PersonKey.USERNAME) and text:
            clauses.append(("username", "username = ? COLLATE NOCASE", text))
        if key in (PersonKey.ANY, PersonKey.IDNUMBER) and text:
            clauses.append(("idnumber", "idnumber = ?", text))
        found: dict[tuple[int, str, int], PersonInArchive] = {}
        for matched, clause, value in clauses:
            async with self.db.connection.execute(
                "SELECT artifact_id, site, userid, username, idnumber, firstname, lastname, attempts FROM people_index "
                f"WHERE {clause} ORDER BY artifact_id",
                (value,),
            ) as cur:
                for row in await cur.fetchall():
                    person = IndexedPerson(row[1], row[2], row[3], row[4], row[5], row[6], row[7])
                    found.setdefault((row[0], person.site, person.userid), PersonInArchive(row[0], person, matched))
        return sorted(found.values(), key=lambda m: (m.person.site, m.person.userid, m.artifact_id))


_ENDED = "[" + ",".join(f'"{state.value}"' for state in JobState if state.is_terminal) + "]"


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
