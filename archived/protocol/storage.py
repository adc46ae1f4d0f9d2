"""`storage.status`: every storage target, what it holds and whether its write/read/delete probe passes."""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime


class StorageStatusParams(Params):
    """With `probe`, each target runs its write/read/delete probe now; without, the last
    probe's result (and its `checked_at`) is returned, probing only targets never probed."""

    probe: bool = True
    target: str | None = None


class TargetStatus(Answer):
    """One storage target (the probe fields are null when it was not probed)."""

    name: str
    driver: str
    tier: str = Field(description="local, remote-fast or remote-slow")
    required: bool = True
    archives: int = 0
    bytes: int = 0
    pending_copies: int = Field(
        default=0, description="copies of archives this target missed, retried in the background until they exist"
    )
    reachable: bool | None = None
    latency_ms: float | None = None
    free_bytes: int | None = None
    total_bytes: int | None = None
    probe_ok: bool | None = None
    message: str = ""
    checked_at: UtcTime | None = None

    @property
    def probed(self) -> bool:
        """Whether this answer includes a status check."""
        return self.reachable is not None

    @property
    def healthy(self) -> bool:
        """Reachable and the write/read/delete probe passed."""
        return bool(self.reachable and self.probe_ok)


class StorageStatusResult(Answer):
    """Every storage target asked for."""

    targets: list[TargetStatus]
