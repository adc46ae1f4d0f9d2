"""The job engine: operator commands (`archived.jobs.commands`) in front of the job runner
(`archived.jobs.runner`), which walks every job through the state machine durably.

What happens to a job is written to the store with its events (`archived.jobs.recorder`); the daemon's event
dispatcher delivers them from the outbox. The engine knows the driver interfaces only, never a concrete driver.
"""

from __future__ import annotations

import time
from typing import Any

from archived.archive.timestamps import TimestampClient
from archived.config import Config
from archived.events.bus import EventBus
from archived.interfaces.activity import ActivityDriver, DriverSettings
from archived.jobs.category_presets import CategoryPresets, CourseCategories
from archived.jobs.commands import (
    InvalidJobState,
    JobCommands,
    JobError,
    ShuttingDown,
    StoredCopies,
    UnknownJob,
    activity_driver,
)
from archived.jobs.recorder import JobRecorder
from archived.jobs.runner import JobRunner
from archived.jobs.settings import DescribedSettings, Preset
from archived.jobs.stages import StageRunner
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord
from archived.targets import StorageTarget

__all__ = ["Engine", "InvalidJobState", "JobError", "ShuttingDown", "UnknownJob"]


class Engine:
    """Creates, runs, cancels, retries and deletes jobs."""

    def __init__(
        self,
        *,
        config: Config,
        store: JobStore,
        bus: EventBus,
        activity_drivers: dict[str, ActivityDriver],
        targets: dict[str, StorageTarget],
        presets: dict[str, Preset],
        secrets: list[str] | None = None,
        moodle_site: str = "",
        timestamper: TimestampClient | None = None,
        stored_copies: StoredCopies | None = None,
        category_presets: CategoryPresets | None = None,
        course_categories: CourseCategories | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.drivers = activity_drivers
        self.targets = targets
        self.presets = presets
        self.moodle_site = moodle_site
        self.started_at = time.time()
        self.recorder = JobRecorder(store=store, bus=bus, secrets=secrets)
        self.stages = StageRunner(
            config=config,
            store=store,
            targets=targets,
            moodle_site=moodle_site,
            driver=lambda name: activity_driver(activity_drivers, name),
            recorder=self.recorder,
            timestamper=timestamper,
        )
        self.runner = JobRunner(config=config, store=store, recorder=self.recorder, stages=self.stages)
        self.commands = JobCommands(
            config=config,
            store=store,
            recorder=self.recorder,
            runner=self.runner,
            stages=self.stages,
            activity_drivers=activity_drivers,
            targets=targets,
            presets=presets,
            stored_copies=stored_copies,
            category_presets=category_presets,
            course_categories=course_categories,
        )

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> int:
        """Resume every unfinished job; returns how many were resumed."""
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        return await self.runner.resume_unfinished()

    async def drain(self) -> None:
        """Stop starting new stages; wait until every runner reached a durable boundary and stopped."""
        await self.runner.drain()

    async def stop_hard(self) -> None:
        """Cancel every runner at once; the store already holds a state each job can resume from."""
        await self.runner.stop_hard()

    @property
    def draining(self) -> bool:
        """True once a shutdown began."""
        return self.runner.draining

    @property
    def max_retries(self) -> int:
        """How often a recoverable error is retried before the job fails ([retry] max_retries)."""
        return self.config.retry.max_retries

    def running_count(self) -> int:
        """Jobs that hold a processing slot right now."""
        return self.runner.running_count()

    # -- settings -----------------------------------------------------------------------------------------

    def settings_model(self, driver: str) -> type[DriverSettings]:
        """The settings model of an activity driver."""
        return self.commands.settings_model(driver)

    async def describe_settings(self, driver: str, course_id: int | None = None) -> DescribedSettings:
        """The job's and the driver's settings with presets and locks (for the TUI dialog), for a course if given."""
        return await self.commands.describe_settings(driver, course_id)

    # -- operator requests --------------------------------------------------------------------------------

    async def create_job(
        self,
        *,
        driver: str,
        course_id: int,
        cmid: int,
        requested: dict[str, Any],
        initiator: Initiator,
        course_name: str = "",
        activity_name: str = "",
    ) -> tuple[JobRecord, list[str]]:
        """Resolve settings, persist a new queued job and start its runner; returns the job and forced keys."""
        return await self.commands.create_job(
            driver=driver,
            course_id=course_id,
            cmid=cmid,
            requested=requested,
            initiator=initiator,
            course_name=course_name,
            activity_name=activity_name,
        )

    async def resolve_job_id(self, ident: str) -> str:
        """A full job id from an id or a unique prefix of at least 4 characters."""
        return await self.commands.resolve_job_id(ident)

    async def get_job(self, job_id: str) -> JobRecord:
        """A job with its live progress."""
        return await self.commands.get_job(job_id)

    async def cancel(self, job_id: str, *, by: Initiator) -> JobRecord:
        """Cancel a job that has not ended; it goes through Cleanup to Canceled."""
        return await self.commands.cancel(job_id, by=by)

    async def retry(self, job_id: str, *, by: Initiator) -> JobRecord:
        """Queue a failed, canceled or timed-out job again; it resumes at its first unfinished stage."""
        return await self.commands.retry(job_id, by=by)

    async def delete(self, job_id: str, *, by: Initiator, force: bool = False) -> tuple[JobRecord, list[str]]:
        """Delete an ended job's stored archives and mark it deleted; the record stays as evidence."""
        return await self.commands.delete(job_id, by=by, force=force)
