"""WORM: the Object Lock an archive gets, and whether a lock still forbids deleting it.

Every archive is written with the target's `lock_mode` and a retain-until date from the job's retention (the lock
travels with the write, so the object is never unlocked), and a legal hold if `legal_hold` is set. Some servers
drop lock headers on multipart uploads; after each write the driver reads the lock back and sets what is missing
(`missing_lock`), never shortening a lock that is already longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archived.interfaces.storage import RetentionLocked
from archived_s3.config import S3Config


def whole_second(moment: datetime) -> datetime:
    """`moment` in UTC, rounded up to a whole second (a lock is never shorter than asked)."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=0) + timedelta(seconds=math.ceil(moment.microsecond / 1e6))


def utc_text(moment: datetime) -> str:
    """A date as messages show it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class LockState:
    """The Object Lock of one object version, as a HEAD answer shows it."""

    mode: str | None = None
    retain_until: datetime | None = None
    legal_hold: bool = False

    @classmethod
    def of(cls, head: dict[str, Any]) -> LockState:
        """Read the lock headers of a HEAD answer."""
        until = head.get("ObjectLockRetainUntilDate")
        if isinstance(until, datetime) and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return cls(head.get("ObjectLockMode"), until, head.get("ObjectLockLegalHoldStatus") == "ON")

    def retained(self, now: datetime) -> bool:
        """Whether a retention period is still running."""
        return bool(self.mode and self.retain_until and self.retain_until > now)

    def describe(self) -> str:
        """The lock in words, for logs and status."""
        parts = []
        if self.mode and self.retain_until:
            parts.append(f"{self.mode} until {utc_text(self.retain_until)}")
        if self.legal_hold:
            parts.append("legal hold")
        return ", ".join(parts) or "no lock"


def write_parameters(config: S3Config, retain_until: datetime | None, now: datetime) -> dict[str, Any]:
    """The Object Lock parameters of a PutObject or CreateMultipartUpload."""
    params: dict[str, Any] = {}
    if config.lock_mode and retain_until is not None and retain_until > now:
        params["ObjectLockMode"] = config.lock_mode
        params["ObjectLockRetainUntilDate"] = whole_second(retain_until)
    if config.legal_hold:
        params["ObjectLockLegalHoldStatus"] = "ON"
    return params


def missing_lock(
    config: S3Config, state: LockState, retain_until: datetime | None, now: datetime
) -> tuple[dict[str, Any] | None, bool]:
    """What a written object lacks: (a PutObjectRetention `Retention`, or None; whether a legal hold is missing)."""
    retention = None
    if config.lock_mode and retain_until is not None and retain_until > now:
        wanted = whole_second(retain_until)
        # COMPLIANCE is never weakened to GOVERNANCE, and a date already later stays.
        mode = "COMPLIANCE" if "COMPLIANCE" in (state.mode, config.lock_mode) else config.lock_mode
        if state.mode != mode or state.retain_until is None or state.retain_until < wanted:
            until = max(wanted, state.retain_until) if state.retain_until else wanted
            retention = {"Mode": mode, "RetainUntilDate": until}
    return retention, config.legal_hold and not state.legal_hold


def deletion_refusal(
    target: str, config: S3Config, key: str, state: LockState, now: datetime
) -> RetentionLocked | None:
    """The error that refuses deleting `key` while its lock holds, or None if it may go (bypass: see `bypasses`)."""
    if state.legal_hold:
        return RetentionLocked(
            f"storage target {target}: {key} is under a legal hold; it cannot be deleted until the hold is released "
            "on the server"
        )
    if not state.retained(now):
        return None
    assert state.retain_until is not None
    until = utc_text(state.retain_until)
    if state.mode == "COMPLIANCE":
        return RetentionLocked(
            f"storage target {target}: {key} is locked (COMPLIANCE) until {until}; nobody can delete it before then"
        )
    if config.allow_governance_bypass:
        return None
    return RetentionLocked(
        f"storage target {target}: {key} is locked (GOVERNANCE) until {until}; to delete it earlier set "
        f"allow_governance_bypass = true in [storage.{target}] (each such deletion is logged)"
    )


def bypasses(state: LockState, now: datetime) -> bool:
    """Whether deleting this version needs the governance bypass."""
    return state.mode == "GOVERNANCE" and state.retained(now)
