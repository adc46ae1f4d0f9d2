"""`audit.list`: the audit trail — who looked up or exported whose data (GDPR requests) and who deleted an archive
before its retention ended, when, what they asked for and what came of it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime
from archived.protocol.jobs import Initiator


class AuditParams(Params):
    """Records, newest first, whose action starts with `action` (e.g. "people." or "retention.")."""

    action: str = Field(default="", max_length=100)
    limit: int = Field(default=100, ge=1, le=1000)
    before_id: int | None = Field(default=None, ge=1)


class AuditEntry(Answer):
    """One audited action."""

    id: int
    at: UtcTime
    actor: Initiator
    action: str = Field(description='"people.find", "people.export" or "retention.delete_early"')
    subject: str = Field(description="what it was about: the person looked up, the archive deleted")
    outcome: str = Field(description='"ok", "partial: …" or "refused: …"')
    details: dict[str, Any] = Field(default_factory=dict)


class AuditPage(Answer):
    """A page of the audit trail; `next_before_id` pages on."""

    entries: list[AuditEntry]
    next_before_id: int | None = None
