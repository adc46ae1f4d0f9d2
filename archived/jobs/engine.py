"""The job engine: runs every job through the state machine, durably.

One asyncio task per unfinished job (its *runner*) walks the job from state to state. Each transition is
written to the store before the work it starts, together with the checkpoint of the stage that just finished,
so a daemon killed at any moment resumes each job at its last durable state after a restart. Stages:

- activity archiving: the activity driver writes payload files; the engine adds `job.json` and hashes
  everything (the checkpoint is the payload manifest);
- post-processing: the payload becomes a BagIt-in-ZIP archive, which is verified after writing;
- store: the archive goes to every storage target, each copy verified and recorded.

The engine knows the driver interfaces only, never a concrete driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from archived.config import Config
from archived.errors import ArchivedError, FatalError, IntegrityError, disk_error, is_recoverable
from archived.events.bus import Event, EventBus
from archived.interfaces.activity import ActivityDriver, DriverSettings, LogLevel
from archived.jobs.results import result_from_dict
from archived.jobs.settings import (
    JOB_PRESET,
    InvalidSetting,
    JobSettings,
    Preset,
    SettingDescription,
    describe,
    resolve,
    split_request,
)
from archived.jobs.stages import StageRunner, file_has_size, payload_intact, remove_partial_files
from archived.protocol.states import RETRYABLE_STATES, JobState, Outcome
from archived.store.database import StoreUnwritable
from archived.store.jobs import JobNotFound, JobStore, StaleStateError
from archived.store.records import Initiator, JobRecord
from archived.store.state_chart import backoff_delay, next_stage
from archived.targets import StorageTarget

log = logging.getLogger("archived.engine")

T = TypeVar("T")
S = JobState
PROGRESS_PERSIST_SECONDS = 2.0
STORE_RETRY_MAX_SECONDS = 30.0  # how long a job waits at most between two tries of an unwritable store


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


class _Canceled(Exception):
    """The operator canceled the job while the runner waited or worked."""


class _TimedOut(Exception):
    """The job used up its time budget."""


class _Paused(Exception):
    """The daemon is draining: leave the job where it is; it resumes after the restart."""


@dataclass
class _Live:
    """What the engine knows about a job beyond its row: the runner and its signals."""

    cancel: asyncio.Event
    task: asyncio.Task[None] | None = None
    holds_slot: bool = False
    last_persist: float = 0.0
    segment_started: float | None = None  # when the current timed segment began (for run_seconds)
    store_waits: int = 0  # consecutive steps that found the store unwritable (for the backoff)


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
    ) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.drivers = activity_drivers
        self.targets = targets
        self.presets = presets
        self.moodle_site = moodle_site
        self._secrets = [s for s in (secrets or []) if s]
        self._slots = asyncio.Semaphore(config.daemon.max_running_jobs)
        self._live: dict[str, _Live] = {}
        self._draining = asyncio.Event()
        self.started_at = time.time()
        self.stages = StageRunner(
            config=config,
            store=store,
            bus=bus,
            targets=targets,
            moodle_site=moodle_site,
            driver=self._driver,
            progress=self._progress,
            log=self._log,
        )

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> int:
        """Resume every unfinished job; returns how many were resumed."""
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        jobs = await self.store.unfinished()
        for job in jobs:
            await self._log(job.id, LogLevel.INFO, f"daemon started: resuming job in state {job.state}")
            self._spawn(job.id)
        return len(jobs)

    async def drain(self) -> None:
        """Stop starting new stages; wait until every runner reached a durable boundary and stopped."""
        self._draining.set()
        tasks = [live.task for live in self._live.values() if live.task]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop_hard(self) -> None:
        """Cancel every runner at once; the store already holds a state each job can resume from."""
        self._draining.set()
        tasks = [live.task for live in self._live.values() if live.task]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def draining(self) -> bool:
        """True once a shutdown began."""
        return self._draining.is_set()

    def running_count(self) -> int:
        """Jobs that hold a processing slot right now."""
        return sum(1 for live in self._live.values() if live.holds_slot)

    # -- settings -----------------------------------------------------------------------------------------

    def settings_model(self, driver: str) -> type[DriverSettings]:
        """The settings model of an activity driver."""
        return self._driver(driver).settings_model

    def describe_settings(self, driver: str) -> list[SettingDescription]:
        """The job's and the driver's settings with presets and locks (for the TUI dialog)."""
        model = self.settings_model(driver)
        return describe(JobSettings, self.presets[JOB_PRESET]) + describe(model, self.presets[driver])

    def _driver(self, name: str) -> ActivityDriver:
        try:
            return self.drivers[name]
        except KeyError:
            known = ", ".join(sorted(self.drivers)) or "none installed"
            raise InvalidSetting(f"unknown activity driver {name!r} (installed: {known})") from None

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
        if self.draining:
            raise ShuttingDown("the daemon is shutting down and accepts no new jobs; try again after the restart")
        model = self.settings_model(driver)
        parts = split_request(requested, {JOB_PRESET: JobSettings, driver: model})
        job_part = resolve(JobSettings, self.presets[JOB_PRESET], parts[JOB_PRESET])
        driver_part = resolve(model, self.presets[driver], parts[driver])
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
            settings={"job": job_part.values, "activity": driver_part.values},
            state=S.QUEUED,
            timeout_seconds=self.config.daemon.job_timeout_minutes * 60,
            created_at=now,
            updated_at=now,
            progress_text="queued",
        )
        forced = job_part.forced + driver_part.forced
        logs = [(LogLevel.INFO.value, f"job created by {initiator} for course {course_id}, activity {cmid}")]
        logs += [
            (LogLevel.WARNING.value, f"setting {key} is locked by the site preset; request ignored") for key in forced
        ]
        # One transaction: a job either exists with its runner or not at all (a full store disk must not leave
        # a queued job that nothing runs).
        entries = await self.store.create(
            job, event={"job": job.summary()}, logs=[(lv, self._redact(m)) for lv, m in logs]
        )
        self.bus.publish(Event("job.created", {"job": job.summary()}, job.id))
        for entry in entries:
            self.bus.publish(Event("job.log", entry.to_dict(), job.id))
        self._spawn(job.id)
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
        await self._log(job_id, LogLevel.WARNING, f"cancel requested by {by}")
        live = self._live.get(job_id)
        if live and live.task and not live.task.done():
            live.cancel.set()
            await asyncio.wait({live.task}, timeout=30)
        else:
            await self._finish_cancel(job)
        return await self.get_job(job_id)

    async def retry(self, job_id: str, *, by: Initiator) -> JobRecord:
        """Queue a failed, canceled or timed-out job again; it resumes at its first unfinished stage."""
        if self.draining:
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
        )
        self._publish_state(await self.get_job(job_id))
        await self._log(job_id, LogLevel.INFO, f"retry requested by {by}")
        self._spawn(job_id)
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
        await self.store.mark_deleted(job_id, event={"by": by.to_dict(), "deleted": deleted})
        await self._log(job_id, LogLevel.WARNING, f"deleted by {by}; removed {deleted or 'no stored copies'}")
        self.bus.publish(Event("job.deleted", {"job_id": job_id, "deleted": deleted}, job_id))
        return await self.get_job(job_id), deleted

    # -- runner -------------------------------------------------------------------------------------------

    def _spawn(self, job_id: str) -> None:
        live = self._live.get(job_id)
        if live and live.task and not live.task.done():
            return  # one runner per job: a job never runs twice at the same time
        live = _Live(cancel=asyncio.Event())
        self._live[job_id] = live
        live.task = asyncio.create_task(self._run(job_id, live), name=f"job-{job_id}")

    async def _run(self, job_id: str, live: _Live) -> None:
        try:
            job = await self.store.get(job_id)
            while not job.state.is_terminal:
                try:
                    job = await self._step(job, live)
                    live.store_waits = 0
                except _Canceled:  # canceled while waiting for a slot
                    job = await self._enter_cleanup(await self.store.get(job_id), Outcome.CANCELED, "canceled")
                except StoreUnwritable:
                    job = await self._wait_for_store(job_id, live)
        except _Paused:
            log.info("job %s paused for shutdown", job_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the engine itself: record it on the job, never lose it silently
            log.exception("job %s: internal error", job_id)
            await self._fail_after_internal_error(job_id, live, exc)
        finally:
            self._release_slot(live)
            if self._live.get(job_id) is live:
                del self._live[job_id]

    async def _fail_after_internal_error(self, job_id: str, live: _Live, exc: Exception) -> None:
        """A bug in the engine must not leave a job in a stage with nothing running: a job in a stage ends as
        failed through the state chart (the operator may retry it); any other job resumes at the next start."""
        with contextlib.suppress(Exception):
            message = f"internal error in the job engine: {exc!r}"
            await self._log(job_id, LogLevel.ERROR, message)
            job = await self.store.get(job_id)
            if not job.state.is_stage:
                return
            job = await self._record_error(job, live, job.state, FatalError(message, code="internal"))
            while not job.state.is_terminal:
                job = await self._step(job, live)

    async def _wait_for_store(self, job_id: str, live: _Live) -> JobRecord:
        """The store could not be written, so nothing of the last step is durable. Wait (with backoff, giving
        the processing slot back) and go on from the last durable state, as a restarted daemon would; the job
        never stays in a stage with nothing running. The operator sees the problem in `daemon.status`."""
        self._release_slot(live)
        live.store_waits += 1
        delay = backoff_delay(live.store_waits, base=1.0, maximum=STORE_RETRY_MAX_SECONDS)
        if self.draining:
            raise _Paused
        with contextlib.suppress(asyncio.TimeoutError):
            # A cancel request ends the wait early; the next step then takes the job to Canceled.
            await asyncio.wait_for(live.cancel.wait(), delay)
        if self.draining:
            raise _Paused
        return await self.store.get(job_id)

    async def _step(self, job: JobRecord, live: _Live) -> JobRecord:
        state = job.state
        if live.cancel.is_set() and state is not S.CLEANUP:
            return await self._enter_cleanup(job, Outcome.CANCELED, "canceled by operator")
        if state is S.QUEUED:
            return await self._start(job, live)
        if state.is_stage:
            return await self._run_stage(job, live)
        if state is S.ERROR:
            return await self._classify(job)
        if state is S.RECOVERABLE_ERROR:
            return await self._back_off(job, live)
        if state is S.FAILURE:
            return await self._transition(job, S.ERROR_HANDLING, "handling the failure")
        if state is S.ERROR_HANDLING:
            await self._log(job.id, LogLevel.ERROR, f"job failed in {job.failed_stage}: {job.error_message}")
            self.bus.publish(Event("job.failed", {"job": job.summary()}, job.id))
            return await self._enter_cleanup(job, Outcome.FAILED, "failure handled")
        if state is S.CLEANUP:
            return await self._cleanup(job)
        raise RuntimeError(f"no runner step for state {state}")

    async def _acquire_slot(self, job: JobRecord, live: _Live) -> None:
        if live.holds_slot:
            return
        acquired = False

        async def take() -> None:
            nonlocal acquired
            await self._slots.acquire()
            acquired = True

        try:
            await self._wait(job, live, take(), timed=False)
        except BaseException:
            if acquired:  # the slot arrived just as the wait was interrupted: give it back
                self._slots.release()
            raise
        live.holds_slot = True

    def _release_slot(self, live: _Live) -> None:
        if live.holds_slot:
            live.holds_slot = False
            self._slots.release()

    async def _start(self, job: JobRecord, live: _Live) -> JobRecord:
        if self.draining:
            raise _Paused
        await self._acquire_slot(job, live)
        stage = await self._resume_point(job)
        fields: dict[str, Any] = {"progress_text": f"starting {stage}"}
        if job.started_at is None:
            fields["started_at"] = time.time()
        return await self._transition(job, stage, f"processing starts at {stage}", **fields)

    async def _resume_point(self, job: JobRecord) -> JobState:
        """The first stage whose output is missing or damaged; later checkpoints are dropped."""
        checkpoints = await self.store.checkpoints(job.id)
        work = self.stages.work_dir(job.id)
        activity = checkpoints.get(S.ACTIVITY_ARCHIVING.value)
        if activity is None or not await asyncio.to_thread(payload_intact, work / "payload", activity["payload"]):
            await self.store.drop_checkpoints(job.id, [S.ACTIVITY_ARCHIVING.value, S.POST_PROCESSING.value])
            return S.ACTIVITY_ARCHIVING
        post = checkpoints.get(S.POST_PROCESSING.value)
        if post is None or not await asyncio.to_thread(file_has_size, Path(post["path"]), post["size"]):
            await self.store.drop_checkpoints(job.id, [S.POST_PROCESSING.value])
            return S.POST_PROCESSING
        return S.STORE

    async def _run_stage(self, job: JobRecord, live: _Live) -> JobRecord:
        stage = job.state
        await self._acquire_slot(job, live)
        await self._log(job.id, LogLevel.INFO, f"stage {stage} started")
        runner: Awaitable[dict[str, Any]]
        if stage is S.ACTIVITY_ARCHIVING:
            runner = self.stages.run_activity(job)
        elif stage is S.POST_PROCESSING:
            runner = self.stages.run_post_processing(job)
        else:
            runner = self.stages.run_store(job)
        try:
            checkpoint = await self._wait(job, live, runner, timed=True, interrupt_on_drain=False)
        except _Canceled:
            return await self._enter_cleanup(await self.store.get(job.id), Outcome.CANCELED, "canceled by operator")
        except _TimedOut:
            return await self._enter_cleanup(await self.store.get(job.id), Outcome.TIMED_OUT, "job timeout reached")
        except (asyncio.CancelledError, StoreUnwritable):
            raise  # a store that cannot be written is no error of the job: the runner waits for it
        except Exception as exc:
            return await self._record_error(await self.store.get(job.id), live, stage, exc)
        job = await self.store.get(job.id)
        target = next_stage(stage)
        fields: dict[str, Any] = {"run_seconds": self._run_seconds(job, live)}
        if target is S.CLEANUP:
            fields["outcome"] = Outcome.COMPLETED
            fields["progress"] = 100.0
        if stage is S.ACTIVITY_ARCHIVING:
            result = result_from_dict(checkpoint["result"])
            fields["course_name"] = result.course.fullname
            fields["activity_name"] = result.activity.name
            fields["fingerprint"] = result.fingerprint
        job = await self._transition(job, target, f"{stage} finished", checkpoint=(stage.value, checkpoint), **fields)
        await self._log(job.id, LogLevel.INFO, f"stage {stage} finished")
        if self.draining and target is not S.CLEANUP:
            self._release_slot(live)
            raise _Paused
        return job

    async def _record_error(self, job: JobRecord, live: _Live, stage: JobState, exc: BaseException) -> JobRecord:
        exc = disk_error(exc, f"the work folder {self.config.work_dir}") or exc
        code = exc.code if isinstance(exc, ArchivedError) else type(exc).__name__
        message = self._redact(str(exc) or repr(exc))
        if not isinstance(exc, ArchivedError):
            log.error("job %s: unexpected %s in %s", job.id, type(exc).__name__, stage, exc_info=exc)
            message = f"unexpected {type(exc).__name__}: {message}"
        await self._log(job.id, LogLevel.ERROR, f"{stage} failed ({code}): {message}")
        if isinstance(exc, IntegrityError) and stage is S.POST_PROCESSING:
            await self.store.drop_checkpoints(job.id, [S.ACTIVITY_ARCHIVING.value])
        if isinstance(exc, IntegrityError) and stage is S.STORE:
            await self.store.drop_checkpoints(job.id, [S.POST_PROCESSING.value])
        return await self._transition(
            job,
            S.ERROR,
            f"{stage} failed: {code}",
            failed_stage=stage,
            error_code=code,
            error_message=message,
            error_recoverable=is_recoverable(exc),
            run_seconds=self._run_seconds(job, live),
            event={"recoverable": is_recoverable(exc)},
            progress_text=f"error in {stage}",
        )

    async def _classify(self, job: JobRecord) -> JobRecord:
        recoverable = job.error_recoverable
        if recoverable and job.retries < self.config.retry.max_retries:
            attempt = job.retries + 1
            delay = backoff_delay(
                attempt, base=self.config.retry.backoff_base_seconds, maximum=self.config.retry.backoff_max_seconds
            )
            await self._log(
                job.id,
                LogLevel.WARNING,
                f"recoverable error; retry {attempt}/{self.config.retry.max_retries} in {delay:.0f} s",
            )
            return await self._transition(
                job,
                S.RECOVERABLE_ERROR,
                f"retry {attempt} in {delay:.0f} s",
                retries=attempt,
                next_retry_at=time.time() + delay,
                progress_text=f"waiting {delay:.0f} s before retry {attempt}",
            )
        reason = "not recoverable" if not recoverable else f"retries exhausted ({job.retries})"
        return await self._transition(job, S.FAILURE, reason)

    async def _back_off(self, job: JobRecord, live: _Live) -> JobRecord:
        self._release_slot(live)
        delay = max(0.0, (job.next_retry_at or 0) - time.time())
        try:
            await self._wait(job, live, asyncio.sleep(delay), timed=True)
        except _Canceled:
            return await self._enter_cleanup(await self.store.get(job.id), Outcome.CANCELED, "canceled by operator")
        except _TimedOut:
            return await self._enter_cleanup(await self.store.get(job.id), Outcome.TIMED_OUT, "job timeout reached")
        job = await self.store.get(job.id)
        await self._acquire_slot(job, live)
        stage = job.failed_stage or S.ACTIVITY_ARCHIVING
        return await self._transition(
            job, stage, f"retry {job.retries} of {stage}", run_seconds=self._run_seconds(job, live)
        )

    async def _enter_cleanup(self, job: JobRecord, outcome: Outcome, reason: str) -> JobRecord:
        if outcome is Outcome.TIMED_OUT:
            await self._log(job.id, LogLevel.ERROR, f"job timed out after {job.timeout_seconds / 60:.0f} min")
        job = await self._transition(job, S.CLEANUP, reason, outcome=outcome, progress_text="cleaning up")
        return job

    async def _finish_cancel(self, job: JobRecord) -> None:
        """Cancel a job that has no runner (e.g. while the daemon drains)."""
        job = await self._enter_cleanup(job, Outcome.CANCELED, "canceled by operator")
        await self._cleanup(job)

    async def _cleanup(self, job: JobRecord) -> JobRecord:
        outcome = job.outcome or Outcome.FAILED
        work = self.stages.work_dir(job.id)
        if outcome is Outcome.COMPLETED:
            await asyncio.to_thread(shutil.rmtree, work, True)
        else:
            # Keep the finished stages' outputs (a retry resumes from them); remove half-written files.
            await asyncio.to_thread(remove_partial_files, work)
        final = outcome.final_state
        job = await self._transition(
            job, final, f"cleanup done: {outcome}", finished_at=time.time(), progress_text=str(outcome)
        )
        level = LogLevel.INFO if final is S.COMPLETED else LogLevel.WARNING
        await self._log(job.id, level, f"job ended: {final}")
        kind = {S.COMPLETED: "job.completed", S.FAILED: "job.failed", S.CANCELED: "job.aborted"}.get(
            final, "job.aborted"
        )
        self.bus.publish(Event(kind, {"job": job.summary()}, job.id))
        return job

    # -- waiting ------------------------------------------------------------------------------------------

    async def _wait(
        self,
        job: JobRecord,
        live: _Live,
        awaitable: Awaitable[T],
        *,
        timed: bool,
        interrupt_on_drain: bool = True,
    ) -> T:
        """Await `awaitable` unless the operator cancels, the time budget ends or (for waits) the daemon drains."""
        work = asyncio.ensure_future(awaitable)
        watchers = {asyncio.ensure_future(live.cancel.wait())}
        if interrupt_on_drain:
            watchers.add(asyncio.ensure_future(self._draining.wait()))
        timeout = None
        if timed:
            live.segment_started = time.monotonic()
            timeout = max(0.0, job.timeout_seconds - job.run_seconds)
        try:
            done, _ = await asyncio.wait({work, *watchers}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
            raise
        finally:
            for watcher in watchers:
                watcher.cancel()
        if work in done:
            return work.result()
        work.cancel()
        with contextlib.suppress(BaseException):
            await work  # let the driver clean up before the job moves on
        if live.cancel.is_set():
            raise _Canceled
        if self._draining.is_set() and interrupt_on_drain:
            raise _Paused
        raise _TimedOut

    def _run_seconds(self, job: JobRecord, live: _Live) -> float:
        if live.segment_started is None:
            return job.run_seconds
        spent = time.monotonic() - live.segment_started
        live.segment_started = None
        return job.run_seconds + spent

    # -- bookkeeping --------------------------------------------------------------------------------------

    async def _transition(self, job: JobRecord, target: JobState, reason: str, **fields: Any) -> JobRecord:
        event = fields.pop("event", None)
        checkpoint = fields.pop("checkpoint", None)
        try:
            job = await self.store.transition(
                job.id, job.state, target, reason=reason, event=event, checkpoint=checkpoint, **fields
            )
        except StaleStateError:
            log.warning("job %s moved under the runner; reloading", job.id)
            return await self.store.get(job.id)
        self._publish_state(job)
        return job

    def _publish_state(self, job: JobRecord) -> None:
        self.bus.publish(Event("job.state", {"job": job.summary()}, job.id))

    async def _progress(self, job_id: str, percent: float, text: str) -> None:
        text = self._redact(text)
        self.bus.publish(
            Event("job.progress", {"progress": round(percent, 1), "text": text}, job_id, coalesce_key=job_id)
        )
        live = self._live.get(job_id)
        now = time.monotonic()
        if live is None or now - live.last_persist >= PROGRESS_PERSIST_SECONDS:
            if live is not None:
                live.last_persist = now
            # Progress is a hint: a store that cannot take it must not abort the stage (checkpoints will tell).
            with contextlib.suppress(StoreUnwritable):
                await self.store.update(job_id, progress=percent, progress_text=text)

    async def _log(self, job_id: str, level: LogLevel, message: str) -> None:
        entry = await self.store.add_log(job_id, level.value, self._redact(message))
        self.bus.publish(Event("job.log", entry.to_dict(), job_id))

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text
