"""Copies of an archive that are not there yet: an optional storage target missed one, and the daemon retries it in
the background until it succeeds (shown by `jobs.get`, `archives.list` and `storage.status`)."""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, UtcTime


class PendingCopy(Answer):
    """A copy an optional target did not confirm; retried with backoff until it succeeds or the job is deleted."""

    target: str
    attempts: int = Field(description="tries so far, the store stage's included")
    last_error: str = Field(default="", description="why the last try failed")
    next_try_at: UtcTime | None = Field(default=None, description="when the daemon tries again")
    since: UtcTime | None = Field(default=None, description="when the copy was first missed")
