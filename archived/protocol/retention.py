"""The `retention.*` methods: delete the archives whose retention is over (or one job's archives early, forced and
audited) from every target, and read the tombstones that remain of deleted copies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime
from archived.protocol.jobs import Initiator

CopyOutcomeName = Literal["deleted", "would_delete", "locked", "failed"]


class RetentionRunParams(Params):
    """Run the retention sweep now."""

    dry_run: bool = Field(default=False, description="only list what would be deleted")


class RetentionDeleteParams(Params):
    """Delete one ended job's archives from every target, before their retain-until date only with `force`."""

    job_id: str = Field(min_length=1, description="the job's id or a unique prefix")
    force: bool = Field(default=False, description="delete even though the retention period is not over (audited)")
    reason: str = Field(default="", max_length=1000, description="why (kept in the tombstones and the audit trail)")
    dry_run: bool = False


class CopyDeletion(Answer):
    """One stored copy and what became of it: deleted, kept by a WORM lock, or kept because deleting failed."""

    job_id: str
    archive: str
    target: str
    location: str
    retain_until: UtcTime | None = None
    outcome: CopyOutcomeName
    detail: str = ""
    objects: int = Field(default=0, description="objects deleted: the archive and its timestamp renewals")


class RetentionResult(Answer):
    """What a sweep or an early deletion did, copy by copy."""

    at: UtcTime
    dry_run: bool
    copies: list[CopyDeletion]
    deleted: int
    locked: int
    failed: int


class TombstonesParams(Params):
    """Tombstones, newest first (of one job, or all)."""

    job_id: str | None = Field(default=None, min_length=1)
    limit: int = Field(default=100, ge=1, le=1000)
    before_id: int | None = Field(default=None, ge=1)


class TombstoneView(Answer):
    """What remains of one deleted object: what it was, where, its checksum, when, why and by whom."""

    id: int
    job_id: str
    object: str
    target: str
    location: str
    size: int
    sha256: str
    retain_until: UtcTime | None = None
    deleted_at: UtcTime
    reason: str
    forced: bool
    by: Initiator


class TombstonePage(Answer):
    """A page of tombstones; `next_before_id` pages on."""

    tombstones: list[TombstoneView]
    next_before_id: int | None = None
