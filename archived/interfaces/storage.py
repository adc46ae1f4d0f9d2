"""The interface every storage driver implements (local directory, S3, FTP, …).

Contract: `store` never overwrites an existing object and verifies what it wrote (size and SHA-256);
`retrieve` streams an object back; `delete` is refused clearly while a retention lock holds; `status`
reports reachability, latency, free space and the result of a probe write/read/delete.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from archived.errors import FatalError, RecoverableError


class Tier(StrEnum):
    """How fast a target answers; operators pick targets by tier."""

    LOCAL = "local"
    REMOTE_FAST = "remote-fast"
    REMOTE_SLOW = "remote-slow"


class StorageConfig(BaseModel):
    """Base of every driver's target configuration (`[storage.<name>]` minus the common keys)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class StoredObject:
    """Where an archive landed and what was verified there."""

    location: str
    size: int
    sha256: str


@dataclass
class StorageStatus:
    """The result of a status check of one target."""

    reachable: bool
    latency_ms: float | None = None
    free_bytes: int | None = None
    total_bytes: int | None = None
    probe_ok: bool = False
    message: str = ""
    used_bytes: int | None = None  # what the target's archives take, where that is cheap to learn
    details: dict[str, str] = field(default_factory=dict)  # driver facts in words, e.g. {"object_lock": "on"}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


class StorageUnavailable(RecoverableError):
    """The target cannot be reached or is throttling; try again later."""

    code = "storage_unavailable"


class StorageConflict(FatalError):
    """An object of that name already exists with other content; it is never overwritten."""

    code = "storage_conflict"


class RetentionLocked(FatalError):
    """Deletion refused: the object is still under a retention (WORM) lock."""

    code = "retention_locked"


class StorageDriver(ABC):
    """Puts finished archives somewhere safe."""

    name: ClassVar[str]  # entry-point name, the `driver` key of a `[storage.<target>]` table
    config_model: ClassVar[type[StorageConfig]]

    def __init__(self, target: str, config: StorageConfig, tier: Tier) -> None:
        self.target = target
        self.config = config
        self.tier = tier

    @abstractmethod
    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Copy `source` to a new object `name`; verify size and SHA-256 after writing.

        If an object `name` already exists with exactly this content (a resumed job), return it; if it
        exists with other content, raise `StorageConflict`. Never overwrite.
        """

    @abstractmethod
    def retrieve(self, location: str) -> AsyncIterator[bytes]:
        """Stream an object's bytes."""

    @abstractmethod
    async def delete(self, location: str) -> None:
        """Delete an object; raise `RetentionLocked` while a WORM lock holds."""

    @abstractmethod
    async def status(self) -> StorageStatus:
        """Reachability, latency, free space and a probe write/read/delete."""

    async def close(self) -> None:  # noqa: B027 - optional hook, most drivers hold nothing
        """Release connections."""
