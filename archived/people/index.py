"""Keeping the people index complete: every stored archive is read once — fetched from a target that holds it and
verified (size and SHA-256 as recorded, then every check of `archived verify`) — and the people in its
`data/job.json` and `data/attempts.csv` (a quiz's) or `data/submissions.csv` and participant folders (an
assignment's) are recorded. This also covers archives made before the index existed.
An archive that cannot be read is recorded with the reason and tried again later; lookups name it as not searched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from archived.archive.people_files import ArchiveContents, UnreadableContents
from archived.errors import ArchivedError
from archived.jobs.archive_retrieval import RetrievedArchive, retrieve_verified
from archived.people.assignment_contents import read_people_contents
from archived.store.database import Database
from archived.store.holdings import HeldArchive, held_archives
from archived.store.jobs import JobStore
from archived.store.people import IndexedPerson, PeopleIndexStore
from archived.targets import StorageTarget

log = logging.getLogger("archived.people")

RETRY_PROBLEMS_AFTER = 3600.0  # an archive that could not be read is tried again at most hourly (a target is down)
# Archives read per pass: the background pass lets a request in between (after an upgrade there may be thousands
# to read), and a request reads at most this many of the missing ones itself, naming the rest as not searched yet.
BACKGROUND_BATCH = 10
REQUEST_READS = 50
NOT_READ_YET = "not read into the people index yet (the daemon reads it in the background; ask again later)"


@dataclass
class IndexRun:
    """What one pass of indexing did."""

    indexed: list[str] = field(default_factory=list)  # labels of archives read now
    problems: dict[str, str] = field(default_factory=dict)  # label -> why it could not be read


class ArchiveReader:
    """Fetches a verified copy of a stored archive into the daemon's work folder, and reads who is inside it."""

    def __init__(self, *, store: JobStore, targets: Mapping[str, StorageTarget], folder: Path) -> None:
        self.store = store
        self.targets = dict(targets)
        self.folder = folder

    async def fetch(self, held: HeldArchive) -> RetrievedArchive:
        """A verified copy (the caller removes `path`); raises `ArchivedError` naming every copy refused and why."""
        artifact = next((a for a in await self.store.artifacts(held.job_id) if a.id == held.artifact_id), None)
        if artifact is None:
            raise ArchivedError(f"{held.label} is no longer recorded", code="not_found")
        return await retrieve_verified(artifact, self.targets, self.folder)

    @staticmethod
    async def contents(path: Path) -> ArchiveContents:
        """Who and what is inside a verified copy (raises `UnreadableContents`)."""
        return await asyncio.to_thread(read_people_contents, path)


def discard(path: Path) -> None:
    """Remove a fetched copy (or an export that could not be written; a file that is not there is fine)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.unlink(path)


class PeopleIndexer:
    """Indexes the stored archives the people index does not know yet."""

    def __init__(self, *, db: Database, reader: ArchiveReader) -> None:
        self.db = db
        self.reader = reader
        self.index = PeopleIndexStore(db)
        self._lock = asyncio.Lock()  # the hourly pass and a lookup must not read the same archives twice

    async def unsearchable(self) -> dict[int, tuple[HeldArchive, str]]:
        """Stored archives not in the index, with why (never read yet, or the reason reading failed)."""
        held = await held_archives(self.db)
        states = await self.index.states([h.artifact_id for h in held])
        missing = {}
        for archive in held:
            state = states.get(archive.artifact_id)
            if state is not None and state.indexed_at is None and state.problem:
                missing[archive.artifact_id] = (archive, state.problem)
            elif state is None or state.indexed_at is None:
                missing[archive.artifact_id] = (archive, NOT_READ_YET)
        return missing

    async def index_new(self) -> IndexRun | None:
        """Read the archives stored since the last look (and those that failed over an hour ago); None when there
        was nothing to read (one cheap query: the daemon asks at every housekeeping tick)."""
        if not await self.index.anything_to_read(failed_before=time.time() - RETRY_PROBLEMS_AFTER):
            return None
        return await self.index_pending(limit=BACKGROUND_BATCH)

    async def index_pending(self, *, now: float | None = None, limit: int | None = None) -> IndexRun:
        """Read the stored archives not indexed yet (one that failed: again after `RETRY_PROBLEMS_AFTER`), at most
        `limit` of them."""
        async with self._lock:
            now = time.time() if now is None else now
            run = IndexRun()
            held = await held_archives(self.db)
            states = await self.index.states([h.artifact_id for h in held])
            for archive in held:
                state = states.get(archive.artifact_id)
                if state is not None and state.indexed_at is not None:
                    continue
                if state is not None and state.problem and now - state.attempted_at < RETRY_PROBLEMS_AFTER:
                    continue
                if limit is not None and len(run.indexed) + len(run.problems) >= limit:
                    break
                problem = await self.index_archive(archive)
                if problem:
                    run.problems[archive.label] = problem
                else:
                    run.indexed.append(archive.label)
            if run.indexed or run.problems:
                log.info("people index: %d archive(s) read, %d could not be read", len(run.indexed), len(run.problems))
            return run

    async def index_archive(self, archive: HeldArchive) -> str:
        """Index one archive from a verified copy; the problem in words if that failed ("" when it worked)."""
        try:
            retrieved = await self.reader.fetch(archive)
        except ArchivedError as exc:
            problem = f"no verified copy could be read: {exc}"
            await self.index.record_problem(archive.artifact_id, problem)
            return problem
        try:
            contents = await self.reader.contents(retrieved.path)
        except (UnreadableContents, OSError) as exc:
            problem = f"the copy on {retrieved.target} verifies but its people cannot be read: {exc}"
            await self.index.record_problem(archive.artifact_id, problem)
            return problem
        finally:
            await asyncio.to_thread(discard, retrieved.path)
        people = [
            IndexedPerson(contents.site, p.userid, p.username, p.idnumber, p.firstname, p.lastname, p.attempts)
            for p in contents.people()
        ]
        await self.index.replace(archive.artifact_id, people, source=f"{retrieved.target}:{retrieved.location}")
        return ""
