"""The `ArchiveContext` the engine hands an activity driver for one run of the activity stage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archived.interfaces.activity import DriverSettings, LogLevel
from archived.store.jobs import JobStore
from archived.store.records import JobRecord

PARTIAL_CHECKPOINT = "activity_archiving.partial"


class StageContext:
    """Implements `archived.interfaces.activity.ArchiveContext` on top of the store and the engine."""

    def __init__(
        self,
        *,
        job: JobRecord,
        settings: DriverSettings,
        payload_dir: Path,
        work_dir: Path,
        store: JobStore,
        on_progress: Callable[[float, str], Awaitable[None]],
        on_log: Callable[[LogLevel, str], Awaitable[None]],
    ) -> None:
        self.job_id = job.id
        self.course_id = job.course_id
        self.cmid = job.cmid
        self.settings = settings
        self.payload_dir = payload_dir
        self.work_dir = work_dir
        self.created_at = datetime.fromtimestamp(job.created_at, UTC)
        self._store = store
        self._on_progress = on_progress
        self._on_log = on_log

    async def progress(self, percent: float, text: str) -> None:
        """Report progress of the activity stage."""
        await self._on_progress(max(0.0, min(100.0, percent)), text)

    async def log(self, level: LogLevel, message: str) -> None:
        """Append to the job's log."""
        await self._on_log(LogLevel(level), message)

    async def load_checkpoint(self) -> dict[str, Any] | None:
        """The driver's partial-progress record, if an earlier run left one."""
        return (await self._store.checkpoints(self.job_id)).get(PARTIAL_CHECKPOINT)

    async def save_checkpoint(self, data: dict[str, Any]) -> None:
        """Durably record the driver's partial progress."""
        await self._store.save_checkpoint(self.job_id, PARTIAL_CHECKPOINT, data)

    async def load_checkpoint_items(self) -> dict[str, Any]:
        """The driver's finished units of work recorded one by one by an earlier run, by key."""
        return await self._store.checkpoint_items(self.job_id, PARTIAL_CHECKPOINT)

    async def save_checkpoint_items(self, items: dict[str, Any]) -> None:
        """Durably record finished units of work (added to, or replacing, those recorded before)."""
        await self._store.add_checkpoint_items(self.job_id, PARTIAL_CHECKPOINT, items)
