"""Evidence renewal of stored archives (`archived archives retimestamp`): a fresh RFC 3161 timestamp over the newest
timestamp of each archive's chain, made before that timestamp's certificates expire or its algorithms weaken.

The chain lives in the store (`archived.store.renewals`): link 0 is the archive's own timestamp, read once from a
verified copy of the archive; link n stamps the exact bytes of link n-1's reply. Each new link is written next to
the archive on every target that holds a copy, as new objects `<archive>.zip.ts-<n>.tsr` and `.chain.pem`
(`archived.archive.renewal`; a WORM target gets new objects, nothing is rewritten), with the archive's retain-until
date. `archived verify` checks the chain from those files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from archived.archive.bag import TIMESTAMP_FOLDER
from archived.archive.renewal import StampFacts, sidecar_names, verify_link
from archived.archive.timestamps import CHAIN_SUFFIX, STAMPED_FILE, TOKEN_SUFFIX, Timestamp, TimestampInvalid
from archived.errors import ArchivedError
from archived.jobs.archive_retrieval import retrieve_verified
from archived.store.database import Database
from archived.store.holdings import HeldArchive, held_archives
from archived.store.jobs import JobStore
from archived.store.renewals import ChainLink, RenewalCopy, RenewalStore
from archived.targets import StorageTarget

log = logging.getLogger("archived.renewal")

MAX_STAMP_FILE = 1024 * 1024


class Timestamper(Protocol):
    """Gives a verified timestamp over some bytes (`archived.archive.timestamps.TimestampClient`)."""

    async def timestamp(self, data: bytes) -> Timestamp: ...


class RenewalOutcome(StrEnum):
    """What became of one archive."""

    RENEWED = "renewed"
    WOULD_RENEW = "would_renew"
    NOT_DUE = "not_due"  # its newest timestamp holds past --before
    NOT_TIMESTAMPED = "not_timestamped"  # made without a timestamp: nothing to renew
    FAILED = "failed"


@dataclass
class ArchiveRenewal:
    """One archive and what renewal did: the new link, the targets that got its sidecars, and those that did not."""

    job_id: str
    archive: str
    outcome: RenewalOutcome
    number: int = 0
    gen_time: float | None = None
    authority: str = ""
    holds_until: float | None = None
    stored: list[str] = field(default_factory=list)  # "target:location" of each sidecar reply written
    detail: str = ""


class EvidenceRenewal:
    """Renews the timestamps of stored archives."""

    def __init__(
        self,
        *,
        db: Database,
        store: JobStore,
        targets: Mapping[str, StorageTarget],
        timestamper: Timestamper | None,
        work_dir: Path,
    ) -> None:
        self.db = db
        self.store = store
        self.targets = dict(targets)
        self.timestamper = timestamper
        self.work_dir = work_dir
        self.chains = RenewalStore(db)
        self._lock = asyncio.Lock()  # two renewals of one archive at once would both claim the same link number

    async def renew(
        self, *, before: float | None = None, job_id: str | None = None, dry_run: bool = False
    ) -> list[ArchiveRenewal]:
        """Renew every stored archive (of one job) whose newest timestamp holds until before `before` (all: None)."""
        if self.timestamper is None and not dry_run:
            raise ArchivedError(
                "no time-stamping authority is configured: set [timestamp] tsa_urls and ca_file to renew timestamps",
                code="invalid_state",
            )
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        async with self._lock:
            return [await self._renew(held, before, dry_run) for held in await held_archives(self.db, job_id=job_id)]

    async def _renew(self, held: HeldArchive, before: float | None, dry_run: bool) -> ArchiveRenewal:
        def result(outcome: RenewalOutcome, detail: str = "", link: ChainLink | None = None) -> ArchiveRenewal:
            done = ArchiveRenewal(held.job_id, held.name, outcome, detail=detail)
            if link is not None:
                done.number, done.gen_time, done.authority = link.number, link.gen_time, link.authority
                done.holds_until = link.holds_until
            return done

        try:
            chain = await self.chains.chain(held.artifact_id)
            if not chain:
                first = await self._first_link(held)
                if first is None:
                    return result(RenewalOutcome.NOT_TIMESTAMPED, "the archive was made without a timestamp")
                chain = [first]
        except ArchivedError as exc:
            return result(RenewalOutcome.FAILED, str(exc))
        newest = chain[-1]
        if before is not None and newest.holds_until is not None and newest.holds_until >= before:
            holds = f"its newest timestamp holds until {_day(newest.holds_until)}"
            done = result(RenewalOutcome.NOT_DUE, holds, newest)
            if not dry_run and newest.number >= 1:  # a target that missed a renewal gets it now
                done.stored, problems = await self._store_sidecars(held, newest)
                if problems:
                    done.outcome, done.detail = RenewalOutcome.FAILED, "; ".join(problems)
            return done
        if dry_run:
            return result(RenewalOutcome.WOULD_RENEW, "", newest)
        assert self.timestamper is not None
        try:
            stamp = await self.timestamper.timestamp(newest.reply)
            facts, _ = verify_link(stamp.reply, newest.reply, stamp.chain_pem, ())
        except (ArchivedError, TimestampInvalid) as exc:
            return result(RenewalOutcome.FAILED, f"no timestamp for renewal {newest.number + 1}: {exc}", newest)
        link = await self._add(held, newest.number + 1, stamp.reply, stamp.chain_pem, newest.reply, facts)
        stored, problems = await self._store_sidecars(held, link)
        done = result(RenewalOutcome.RENEWED if not problems else RenewalOutcome.FAILED, "; ".join(problems), link)
        done.stored = stored
        await self.store.add_log(
            held.job_id, "info" if not problems else "warning",
            f"timestamp renewed (ts-{link.number}): {_when(link.gen_time)} by {link.authority}, holds until "
            f"{_day(link.holds_until)}; stored on {', '.join(stored) or 'no target'}"
            + (f"; not stored: {'; '.join(problems)}" if problems else ""),
        )  # fmt: skip
        return done

    async def _add(
        self, held: HeldArchive, number: int, reply: bytes, chain: bytes, stamped: bytes, facts: StampFacts
    ) -> ChainLink:
        return await self.chains.add_link(
            held.artifact_id, number, reply=reply, chain=chain, stamped_sha512=hashlib.sha512(stamped).hexdigest(),
            gen_time=facts.gen_time.timestamp(), authority=facts.authority,
            holds_until=facts.holds_until.timestamp() if facts.holds_until else None,
        )  # fmt: skip

    async def _first_link(self, held: HeldArchive) -> ChainLink | None:
        """Record the archive's own timestamp as link 0, read from a verified copy (None: it has none)."""
        artifact = next((a for a in await self.store.artifacts(held.job_id) if a.id == held.artifact_id), None)
        if artifact is None:
            raise ArchivedError(f"{held.label} is no longer recorded", code="not_found")
        folder = self.work_dir / "renewal"
        retrieved = await retrieve_verified(artifact, self.targets, folder)
        try:
            found = await asyncio.to_thread(_own_timestamp, retrieved.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(retrieved.path)
        if found is None:
            return None
        reply, chain, manifest = found
        try:
            facts, _ = verify_link(reply, manifest, chain, ())
        except TimestampInvalid as exc:
            raise ArchivedError(f"{held.label}: its own timestamp does not verify: {exc}") from None
        return await self._add(held, 0, reply, chain, manifest, facts)

    async def _store_sidecars(self, held: HeldArchive, link: ChainLink) -> tuple[list[str], list[str]]:
        """Write the link's reply and chain next to every copy of the archive, and any earlier renewal a target is
        missing (a renewal it could not take before would break its chain); what was stored, what failed."""
        retain_until = datetime.fromtimestamp(held.retain_until, UTC) if held.retain_until else None
        links = [known for known in await self.chains.chain(held.artifact_id) if known.number >= 1]
        stored: list[str] = []
        problems: list[str] = []
        for copy in held.copies:
            target = self.targets.get(copy.target)
            if target is None:
                problems.append(f"{copy.target}: the target is no longer configured")
                continue
            missing = [known for known in links if not any(c.target == copy.target for c in known.copies)]
            try:
                for renewal in missing:
                    location = await self._store_link(target, copy.location, renewal, retain_until)
            except ArchivedError as exc:
                problems.append(f"{copy.target}: {exc}")
                continue
            if missing:
                stored.append(f"{copy.target}:{location}")
        return stored, problems

    async def _store_link(
        self, target: StorageTarget, archive_location: str, link: ChainLink, retain_until: datetime | None
    ) -> str:
        """Store one link's reply and chain next to an archive on one target; the reply's location."""
        # Named after the object the archive is stored as (an alternative name if its own was taken); the driver puts
        # a name where it put the archive's (a folder or an S3 prefix of its own).
        object_name = archive_location.rpartition("/")[2]
        reply_name, chain_name = sidecar_names(object_name, link.number)
        reply = await self._put(target, reply_name, link.reply, retain_until)
        chain = await self._put(target, chain_name, link.chain, retain_until)
        await self.chains.add_copy(link.id, RenewalCopy(target.name, reply, chain, time.time()))
        return reply

    async def _put(self, target: StorageTarget, name: str, content: bytes, retain_until: datetime | None) -> str:
        fd, temporary = tempfile.mkstemp(prefix=".sidecar-", dir=self.work_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            obj = await target.driver.store(
                Path(temporary), name, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                retain_until=retain_until,
            )  # fmt: skip
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return obj.location


def _own_timestamp(path: Path) -> tuple[bytes, bytes, bytes] | None:
    """The archive's timestamp reply, its chain and the tag manifest it stamps (None: not timestamped)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        bag = names[0].split("/", 1)[0] if names else ""
        wanted = {
            "reply": f"{bag}/{TIMESTAMP_FOLDER}/{STAMPED_FILE}{TOKEN_SUFFIX}",
            "chain": f"{bag}/{TIMESTAMP_FOLDER}/{STAMPED_FILE}{CHAIN_SUFFIX}",
            "manifest": f"{bag}/{STAMPED_FILE}",
        }
        if wanted["reply"] not in names:
            return None
        parts = {}
        for key, name in wanted.items():
            info = archive.getinfo(name)
            if info.file_size > MAX_STAMP_FILE * (64 if key == "manifest" else 1):
                raise ArchivedError(f"{name} is {info.file_size} bytes: not what archived writes")
            parts[key] = archive.read(info)
    return parts["reply"], parts["chain"], parts["manifest"]


def _day(moment: float | None) -> str:
    return datetime.fromtimestamp(moment, UTC).date().isoformat() if moment is not None else "an unknown date"


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
