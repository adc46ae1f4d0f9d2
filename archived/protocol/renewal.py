"""`archives.retimestamp`: renew the RFC 3161 timestamps of stored archives (evidence renewal) before their
certificates expire or their algorithms weaken; each renewal is stored next to the archive on every target."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime

RenewalOutcomeName = Literal["renewed", "would_renew", "not_due", "not_timestamped", "failed"]


class RetimestampParams(Params):
    """Which archives to renew."""

    before: UtcTime | None = Field(
        default=None, description="only archives whose newest timestamp holds until before this moment (default: all)"
    )
    job_id: str | None = Field(default=None, min_length=1, description="only this job's archive (id or unique prefix)")
    dry_run: bool = Field(default=False, description="only say which archives would be renewed")


class RenewedArchive(Answer):
    """One archive and its newest timestamp after the renewal (or why it was not renewed)."""

    job_id: str
    archive: str
    outcome: RenewalOutcomeName
    number: int = Field(default=0, description="the newest link of its chain: 0 is the archive's own timestamp")
    gen_time: UtcTime | None = None
    authority: str = ""
    holds_until: UtcTime | None = Field(default=None, description="renew again before this moment")
    stored: list[str] = Field(default_factory=list, description='"target:location" of each renewal written')
    detail: str = ""


class RetimestampResult(Answer):
    """Every archive looked at."""

    archives: list[RenewedArchive]
    renewed: int
    failed: int
