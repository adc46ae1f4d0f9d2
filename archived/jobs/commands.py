"""Operator commands on jobs: create, look up, cancel, retry and delete, with the errors they answer.

Each command checks what the operator asked for against the job's record, writes the change (with its events)
and hands the job to the runner where work follows.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from archived.config import Config
from archived.errors import ArchivedError, FatalError
from archived.interfaces.activity import ActivityDriver, DriverSettings, LogLevel
from archived.jobs.category_presets import (
    CategoryPresets,
    CourseCategories,
    CoursePlace,
    PresetsInForce,
    course_place,
)
from archived.jobs.recorder import JobRecorder
from archived.jobs.runner import JobRunner
from archived.jobs.settings import (
    JOB_PRESET,
    SITE,
    DescribedSettings,
    InvalidSetting,
    JobSettings,
    Preset,
    describe,
    resolve,
    split_request,
)
from archived.jobs.stages import StageRunner
from archived.protocol.states import RETRYABLE_STATES, JobState
from archived.store.jobs import JobNotFound, JobStore
from archived.store.records import Initiator, JobRecord
from archived.targets import StorageTarget

S = JobState


class JobError(ArchivedError):
    """An operator request about a job that cannot be honoured (unknown id, wrong state)."""

    code = "job_error"


class UnknownJob(JobError):
    """No job matches the given id or prefix."""

    code = "not_found"


class InvalidJobState(JobError):
    """The job is not in a state that allows the request."""

    code = "invalid_state"


class ShuttingDown(JobError):
    """The daemon is draining and accepts no new work."""

    code = "shutting_down"


def activity_driver(drivers: Mapping[str, ActivityDriver], name: str) -> ActivityDriver:
    """The installed activity driver called `name`; `InvalidSetting` naming the installed ones otherwise."""
    try:
        return drivers[name]
    except KeyError:
        known = ", ".join(sorted(drivers)) or "none installed"
        raise InvalidSetting(f"unknown activity driver {name!r} (installed: {known})") from None


def _preset_name(level: str) -> str:
    """ "site preset", "preset of category 3": how messages name a preset level."""
    return "site preset" if level == SITE else f"preset of {level}"


class StoredCopies(Protocol):
    """Deletes a job's stored copies the way retention does (`archived.retention.sweep.ArchiveRetention`): with
    their timestamp renewals, a tombstone for each, and an early deletion in the audit trail."""

    async def delete_with_job(self, job_id: str, *, by: Initiator, reason: str) -> tuple[list[str], list[str]]:
        """Delete every stored copy of the job's archives; returns those deleted ("target:location") and those
        kept ("target: why")."""
        ...


class JobCommands:
    """What operators (through the socket) may do with jobs."""

    def __init__(
        self,
        *,
        config: Config,
        store: JobStore,
        recorder: JobRecorder,
        runner: JobRunner,
        stages: StageRunner,
        activity_drivers: Mapping[str, ActivityDriver],
        targets: Mapping[str, StorageTarget],
        presets: Mapping[str, Preset],
        stored_copies: StoredCopies | None = None,
        category_presets: CategoryPresets | None = None,
        course_categories: CourseCategories | None = None,
    ) -> None:
        self.config = config
        self.category_presets = category_presets
        self.course_categories = course_categories
        self.stored_copies = stored_copies
        self.store = store
        self.recorder = recorder
        self.runner = runner
        self.stages = stages
        self.drivers = activity_drivers
        self.targets = targets
        self.presets = presets

    # -- settings -----------------------------------------------------------------------------------------

    def settings_model(self, driver: str) -> type[DriverSettings]:
        """The settings model of an activity driver."""
        return activity_driver(self.drivers, driver).settings_model

    async def describe_settings(self, driver: str, course_id: int | None = None) -> DescribedSettings:
        """The job's and the driver's settings with presets and locks (for the TUI dialog); with a course, those of
        its categories' presets too."""
        model = self.settings_model(driver)
        in_force, place = await self.presets_in_force(course_id, {JOB_PRESET: JobSettings, driver: model})
        settings = describe(JobSettings, in_force.presets[JOB_PRESET]) + describe(model, in_force.presets[driver])
        return DescribedSettings(
            settings=settings,
            applied=in_force.applied,
            category_id=place.category_id if place else None,
            category_path=list(place.path) if place else [],
        )

    async def presets_in_force(
        self, course_id: int | None, models: Mapping[str, type[DriverSettings]]
    ) -> tuple[PresetsInForce, CoursePlace | None]:
        """The presets for a course's jobs and its place in Moodle; Moodle is asked only when category presets are
        configured (and then a course whose category cannot be read gets no job: never the site's presets
        instead)."""
        if self.category_presets is None or not self.category_presets.configured or course_id is None:
            return PresetsInForce({name: self.presets[name] for name in models}, [SITE], []), None
        place = await course_place(self.course_categories, course_id)
        return self.category_presets.in_force(place, models), place

    # -- commands -----------------------------------------------------------------------------------------

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
        if self.runner.draining:
            raise ShuttingDown("the daemon is shutting down and accepts no new jobs; try again after the restart")
        model = self.settings_model(driver)
        models: dict[str, type[DriverSettings]] = {JOB_PRESET: JobSettings, driver: model}
        parts = split_request(requested, models)
        in_force, place = await self.presets_in_force(course_id, models)
        job_part = resolve(JobSettings, in_force.presets[JOB_PRESET], parts[JOB_PRESET])
        driver_part = resolve(model, in_force.presets[driver], parts[driver])
        unknown_targets = [t for t in job_part.values["storage_targets"] if t not in self.targets]
        if unknown_targets:
            known = ", ".join(sorted(self.targets)) or "none configured"
            raise InvalidSetting(f"setting storage_targets: unknown target(s) {unknown_targets} (configured: {known})")
        if not self.targets:
            raise InvalidSetting("no storage target is configured ([storage.<name>] in the configuration)")
        now = time.time()
        job = JobRecord(
            id=str(uuid.uuid4()),
            driver=driver,
            course_id=course_id,
            cmid=cmid,
            course_name=course_name,
            activity_name=activity_name,
            initiator=initiator,
            settings={
                "job": job_part.values,
                "activity": driver_part.values,
                # Where each value came from: job.json and `jobs show` answer "why this retention?" years later.
                "presets": {
                    "category": place.to_dict() if place else None,
                    "applied": in_force.applied,
                    "sources": {"job": job_part.sources, "activity": driver_part.sources},
                    "locked": {"job": job_part.locked_by, "activity": driver_part.locked_by},
                },
            },
            state=S.QUEUED,
            timeout_seconds=self.config.daemon.job_timeout_minutes * 60,
            created_at=now,
            updated_at=now,
            progress_text="queued",
        )
        forced = job_part.forced + driver_part.forced
        locked_by = {**job_part.locked_by, **driver_part.locked_by}
        logs = [(LogLevel.INFO.value, f"job created by {initiator} for course {course_id}, activity {cmid}")]
        if place is not None:
            path = "/".join(map(str, place.path)) or "-"
            where = f"course {course_id} is in category {place.category_id}, path {path}"
            logs.append((LogLevel.INFO.value, f"presets applied: {', '.join(in_force.applied)} ({where})"))
        logs += [
            (LogLevel.WARNING.value, f"setting {key} is locked by the {_preset_name(locked_by[key])}; request ignored")
            for key in forced
        ]
        logs += [(LogLevel.WARNING.value, note) for note in in_force.overruled]
        # One transaction: a job either exists with its runner or not at all (a full store disk must not leave
        # a queued job that nothing runs). Its `job.created` and `job.log` events are written with it.
        await self.store.create(job, logs=[(level, self.recorder.redact(m)) for level, m in logs])
        self.runner.spawn(job.id)
        return job, forced

    async def resolve_job_id(self, ident: str) -> str:
        """A full job id from an id or a unique prefix of at least 4 characters."""
        ident = ident.strip().lower()
        try:
            return (await self.store.get(ident)).id
        except JobNotFound:
            pass
        if len(ident) >= 4:
            matches = await self.store.ids_with_prefix(ident)
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownJob(f"job id prefix {ident!r} is ambiguous ({len(matches)} jobs); give more characters")
        raise UnknownJob(f"no job with id {ident!r}")

    async def get_job(self, job_id: str) -> JobRecord:
        """A job with its live progress."""
        try:
            return await self.store.get(job_id)
        except JobNotFound:
            raise UnknownJob(f"no job with id {job_id!r}") from None

    async def cancel(self, job_id: str, *, by: Initiator) -> JobRecord:
        """Cancel a job that has not ended; it goes through Cleanup to Canceled."""
        job = await self.get_job(job_id)
        if job.state.is_terminal:
            raise InvalidJobState(f"job {job_id} already ended ({job.state}); nothing to cancel")
        if job.state is S.CLEANUP:
            raise InvalidJobState(f"job {job_id} is already cleaning up towards {job.outcome}")
        await self.recorder.log(job_id, LogLevel.WARNING, f"cancel requested by {by}")
        await self.runner.cancel(job)
        return await self.get_job(job_id)

    async def retry(self, job_id: str, *, by: Initiator) -> JobRecord:
        """Queue a failed, canceled or timed-out job again; it resumes at its first unfinished stage."""
        if self.runner.draining:
            raise ShuttingDown("the daemon is shutting down; retry after the restart")
        job = await self.get_job(job_id)
        if job.deleted_at is not None:
            raise InvalidJobState(f"job {job_id} was deleted; start a new job instead")
        if job.state not in RETRYABLE_STATES:
            raise InvalidJobState(
                f"job {job_id} is {job.state}; only failed, canceled or timed-out jobs can be retried"
            )
        await self.store.transition(
            job_id,
            job.state,
            S.QUEUED,
            reason=f"retry requested by {by}",
            outcome=None,
            retries=0,
            next_retry_at=None,
            error_code=None,
            error_message=None,
            run_seconds=0.0,
            finished_at=None,
            progress_text="queued for retry",
            # In the transition's transaction: a bulk retry of thousands of jobs writes one transaction per job.
            logs=[(LogLevel.INFO.value, self.recorder.redact(f"retry requested by {by}"))],
        )
        self.runner.spawn(job_id)
        return await self.get_job(job_id)

    async def delete(self, job_id: str, *, by: Initiator, force: bool = False) -> tuple[JobRecord, list[str]]:
        """Delete an ended job's stored archives and mark it deleted; the record stays as evidence.

        Archives still inside their retention period are only deleted with `force`.
        """
        job = await self.get_job(job_id)
        if not job.state.is_terminal:
            raise InvalidJobState(f"job {job_id} is {job.state}; cancel it before deleting it")
        if job.deleted_at is not None:
            raise InvalidJobState(f"job {job_id} was already deleted")
        artifacts = await self.store.artifacts(job_id)
        now = time.time()
        retained = [a for a in artifacts if a.retain_until and a.retain_until > now and a.locations]
        if retained and not force:
            until = datetime.fromtimestamp(retained[0].retain_until or 0, UTC).date().isoformat()
            raise InvalidJobState(
                f"job {job_id}'s archive is retained until {until}; deleting it earlier needs force "
                "(archived jobs delete --force)"
            )
        if self.stored_copies is not None:
            return await self._delete_with_tombstones(job_id, by=by)
        deleted = []
        for artifact in artifacts:
            for location in artifact.locations:
                if location.deleted_at is not None:
                    continue
                target = self.targets.get(location.target)
                if target is None:
                    raise FatalError(f"storage target {location.target} is no longer configured; cannot delete")
                await target.driver.delete(location.location)
                await self.store.mark_location_deleted(artifact.id, location.target)
                deleted.append(f"{location.target}:{location.location}")
        await asyncio.to_thread(shutil.rmtree, self.stages.work_dir(job_id), True)
        await self.store.mark_deleted(job_id, by=by, deleted=deleted)
        await self.recorder.log(job_id, LogLevel.WARNING, f"deleted by {by}; removed {deleted or 'no stored copies'}")
        return await self.get_job(job_id), deleted

    async def _delete_with_tombstones(self, job_id: str, *, by: Initiator) -> tuple[JobRecord, list[str]]:
        assert self.stored_copies is not None
        deleted, kept = await self.stored_copies.delete_with_job(job_id, by=by, reason=f"deleted with its job by {by}")
        if kept:
            # Some copies are gone (each with its tombstone), others are not: the job stays, and says which.
            message = f"job {job_id} is not deleted: {len(kept)} stored cop(ies) kept ({'; '.join(kept)})"
            if deleted:
                message += f"; deleted: {', '.join(deleted)}"
            await self.recorder.log(job_id, LogLevel.WARNING, f"delete by {by}: {message}")
            raise FatalError(message)
        await asyncio.to_thread(shutil.rmtree, self.stages.work_dir(job_id), True)
        if (await self.get_job(job_id)).deleted_at is None:  # no stored copy: nothing marked the job deleted yet
            await self.store.mark_deleted(job_id, by=by, deleted=deleted)
        await self.recorder.log(job_id, LogLevel.WARNING, f"deleted by {by}; removed {deleted or 'no stored copies'}")
        return await self.get_job(job_id), deleted
