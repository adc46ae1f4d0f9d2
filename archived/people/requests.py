"""GDPR requests as an operator makes them: find every archive holding a person's data, export only that person's
files. Both bring the people index up to date first (so archives made before it existed are searched too), say which
archives could not be searched, and leave an audit record of who asked, when, for whom and what came of it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from archived.archive.people_files import UnreadableContents
from archived.errors import ArchivedError
from archived.people.export import ExportedArchive, ExportSource, Unexported, write_export
from archived.people.index import REQUEST_READS, ArchiveReader, PeopleIndexer, discard
from archived.store.audit import AuditLog
from archived.store.database import Database
from archived.store.holdings import HeldArchive, held_archives
from archived.store.people import PersonInArchive, PersonKey
from archived.store.records import Initiator


class AmbiguousPerson(ArchivedError):
    """An export's query matches more than one person; the message lists them."""

    code = "ambiguous_person"


@dataclass
class Lookup:
    """The archives holding a person's data (with the archive each match is in), and the archives not searched."""

    matches: list[tuple[PersonInArchive, HeldArchive]] = field(default_factory=list)
    unsearched: list[tuple[HeldArchive, str]] = field(default_factory=list)


@dataclass
class PersonExport:
    """An export written to `path` (the caller hands it over, then removes it)."""

    path: Path
    userid: int
    exported: list[ExportedArchive]
    not_exported: list[Unexported]


class PeopleRequests:
    """Finds and exports one person's data across the stored archives, audited."""

    def __init__(self, *, db: Database, reader: ArchiveReader, indexer: PeopleIndexer) -> None:
        self.db = db
        self.reader = reader
        self.indexer = indexer
        self.audit = AuditLog(db)

    async def _lookup(self, query: str, key: PersonKey) -> Lookup:
        # A request retries archives that failed before, and reads missing ones itself (up to a bound).
        await self.indexer.index_pending(now=float("inf"), limit=REQUEST_READS)
        found = await self.indexer.index.find(query, key)
        held = {h.artifact_id: h for h in await held_archives(self.db, artifact_ids=[m.artifact_id for m in found])}
        lookup = Lookup([(m, held[m.artifact_id]) for m in found if m.artifact_id in held])
        lookup.unsearched = list((await self.indexer.unsearchable()).values())
        return lookup

    async def find(self, query: str, key: PersonKey, *, by: Initiator) -> Lookup:
        """Every stored archive holding the data of the person `query` names (audited)."""
        lookup = await self._lookup(query, key)
        await self.audit.record(
            by, "people.find", f"{key.value}={query}",
            outcome="ok" if not lookup.unsearched else f"ok, {len(lookup.unsearched)} archive(s) could not be searched",
            details={"archives": [h.label for _, h in lookup.matches],
                     "unsearched": [h.label for h, _ in lookup.unsearched]},
        )  # fmt: skip
        return lookup

    async def export(self, query: str, key: PersonKey, *, by: Initiator, folder: Path) -> PersonExport:
        """A ZIP in `folder` with only this person's files from every archive holding them (audited)."""
        subject = f"{key.value}={query}"
        lookup = await self._lookup(query, key)
        people = sorted({(m.person.site, m.person.userid) for m, _ in lookup.matches})
        if len(people) != 1:
            if not people:
                problem = f"no stored archive holds data of a person with {subject}"
                await self.audit.record(by, "people.export", subject, outcome=f"refused: {problem}")
                raise ArchivedError(problem, code="not_found")
            names = ", ".join(f"user id {userid} on {site or 'an unnamed site'}" for site, userid in people)
            problem = f"{subject} matches several people ({names}); ask for one by its user id (key id)"
            await self.audit.record(by, "people.export", subject, outcome=f"refused: {problem}")
            raise AmbiguousPerson(problem)
        first = lookup.matches[0][0].person
        person = {"site": first.site, "userid": first.userid, "username": first.username,
                  "idnumber": first.idnumber, "firstname": first.firstname, "lastname": first.lastname}  # fmt: skip
        sources: list[ExportSource] = []
        refused = [Unexported(h.job_id, h.name, f"could not be searched: {why}") for h, why in lookup.unsearched]
        try:
            for _, held in lookup.matches:
                try:
                    retrieved = await self.reader.fetch(held)
                except ArchivedError as exc:
                    refused.append(Unexported(held.job_id, held.name, str(exc)))
                    continue
                try:
                    contents = await self.reader.contents(retrieved.path)
                except (UnreadableContents, OSError) as exc:
                    await asyncio.to_thread(discard, retrieved.path)
                    refused.append(Unexported(held.job_id, held.name, f"its people cannot be read: {exc}"))
                    continue
                sources.append(ExportSource(retrieved.path, contents, held.job_id, held.name, retrieved.target,
                                            retrieved.location, held.sha256, retrieved.checks))  # fmt: skip
            dest = folder / f"person-{first.userid}-{uuid.uuid4().hex}.zip"
            try:
                exported, not_exported = await asyncio.to_thread(
                    write_export, dest, person=person, sources=sources, refused=refused, requested_by=str(by)
                )
            except Exception as exc:  # a disk that is full, a file that changed while it was copied
                await asyncio.to_thread(discard, dest)
                await self.audit.record(by, "people.export", subject, outcome=f"failed: {exc}")
                raise ArchivedError(f"the export of {subject} could not be written: {exc}") from None
        finally:
            for source in sources:
                await asyncio.to_thread(discard, source.path)
        await self.audit.record(
            by, "people.export", subject,
            outcome="ok" if not not_exported else f"partial: {len(not_exported)} archive(s) not exported",
            details={"userid": first.userid, "archives": [f"{a.archive} (job {a.job_id})" for a in exported],
                     "files": sum(len(a.files) for a in exported),
                     "not_exported": [f"{u.archive} (job {u.job_id}): {u.reason}" for u in not_exported]},
        )  # fmt: skip
        return PersonExport(dest, first.userid, exported, not_exported)
