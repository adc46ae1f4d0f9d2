"""The job runner: one asyncio task per unfinished job walks it through the state machine, durably.

Each transition is written to the store before the work it starts, together with the checkpoint of the stage that
just finished, so a daemon killed at any moment resumes each job at its last durable state after a restart (and
says so in the job's timeline). Stages (`archived.jobs.stages`):

- activity archiving: the activity driver writes payload files; the engine adds `job.json` and hashes
  everything (the checkpoint is the payload manifest);
- post-processing: the payload becomes a BagIt-in-ZIP archive, which is verified after writing;
- store: the archive goes to every storage target, each copy verified and recorded.

Around them: the processing slots (`daemon.max_running_jobs`), error classification, backoff before retries, the
job's time budget, cancellation and draining for a shutdown, and cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from archived.config import Config
from archived.errors import ArchivedError, FatalError, IntegrityError, disk_error, is_recoverable
from archived.interfaces.activity import LogLevel
from archived.jobs.recorder import JobRecorder
from archived.jobs.results import result_from_dict
from archived.jobs.stages import StageRunner, file_has_size, payload_intact, remove_partial_files
from archived.protocol.states import JobState, Outcome
from archived.store.database import StoreUnwritable
from archived.store.jobs import JobStore
from archived.store.records import JobRecord
from archived.store.state_chart import backoff_delay, next_stage

log = logging.getLogger("archived.engine")

T = TypeVar("T")
S = JobState
STORE_RETRY_MAX_SECONDS = 30.0  # how long a job waits at most between two tries of an unwritable store
CANCEL_WAIT_SECONDS = 30.0  # how long a cancel request waits for the runner to reach Canceled


class _Canceled(Exception):
    """The operator canceled the job while the runner waited or worked."""


class _TimedOut(Exception):
    """The job used up its time budget."""


class _Paused(Exception):
    """The daemon is draining: leave the job where it is; it resumes after the restart."""


@dataclass
class _Live:
    """What the runner knows about a job beyond its row: its task and its signals."""

    cancel: asyncio.Event
    task: asyncio.Task[None] | None = None
    holds_slot: bool = False
    segment_started: float | None = None  # when the current timed segment began (for run_seconds)
    store_waits: int = 0  # consecutive steps that found the store unwritable (for the backoff)


def resume_note(job: JobRecord) -> str:
    """The timeline entry of a job that a restarted daemon picks up again: where it goes on."""
    if job.state is S.QUEUED:
        return "daemon restarted: still queued"
    if job.state is S.RECOVERABLE_ERROR:
        stage = job.failed_stage or S.ACTIVITY_ARCHIVING
        return f"daemon restarted: waiting for retry {job.retries} of {stage}"
    return f"daemon restarted: resuming at {job.state}"


class JobRunner:
    """Runs every unfinished job to a terminal state (or to a durable pause when the daemon drains)."""

    def __init__(self, *, config: Config, store: JobStore, recorder: JobRecorder, stages: StageRunner) -> None:
        self.config = config
        self.store = store
        self.recorder = recorder
        self.stages = stages
        self._slots = asyncio.Semaphore(config.daemon.max_running_jobs)
        self._live: dict[str, _Live] = {}
        self._draining = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def resume_unfinished(self) -> int:
        """Start a runner for every unfinished job, noting in its timeline where it resumes; returns how many."""
        jobs = await self.store.unfinished()
        for job in jobs:
            await self.recorder.log(job.id, LogLevel.INFO, f"daemon started: resuming job in state {job.state}")
            await self.recorder.note(job.id, resume_note(job))
            self.spawn(job.id)
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

    # -- runners ------------------------------------------------------------------------------------------

    def spawn(self, job_id: str) -> None:
        """Start the job's runner, unless one is running (a job never runs twice at the same time)."""
        live = self._live.get(job_id)
        if live and live.task and not live.task.done():
            return
        live = _Live(cancel=asyncio.Event())
        self._live[job_id] = live
        live.task = asyncio.create_task(self._run(job_id, live), name=f"job-{job_id}")

    async def cancel(self, job: JobRecord) -> None:
        """Cancel the job: signal its runner and wait for it to reach Canceled, or, without a runner (e.g. while
        the daemon drains), take the job through Cleanup to Canceled here."""
        live = self._live.get(job.id)
        if live and live.task and not live.task.done():
            live.cancel.set()
            await asyncio.wait({live.task}, timeout=CANCEL_WAIT_SECONDS)
        else:
            job = await self._enter_cleanup(job, Outcome.CANCELED, "canceled by operator")
            await self._cleanup(job)

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
                self.recorder.forget(job_id)

    async def _fail_after_internal_error(self, job_id: str, live: _Live, exc: Exception) -> None:
        """A bug in the engine must not leave a job in a stage with nothing running: a job in a stage ends as
        failed through the state chart (the operator may retry it); any other job resumes at the next start."""
        with contextlib.suppress(Exception):
            message = f"internal error in the job engine: {exc!r}"
            await self.recorder.log(job_id, LogLevel.ERROR, message)
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
            return await self.recorder.transition(job, S.ERROR_HANDLING, "handling the failure")
        if state is S.ERROR_HANDLING:
            # `job.failed` is emitted once, by the transition to Failed at the end of Cleanup.
            await self.recorder.log(job.id, LogLevel.ERROR, f"job failed in {job.failed_stage}: {job.error_message}")
            return await self._enter_cleanup(job, Outcome.FAILED, "failure handled")
        if state is S.CLEANUP:
            return await self._cleanup(job)
        raise RuntimeError(f"no runner step for state {state}")

    # -- slots --------------------------------------------------------------------------------------------

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

    # -- stages -------------------------------------------------------------------------------------------

    async def _start(self, job: JobRecord, live: _Live) -> JobRecord:
        if self.draining:
            raise _Paused
        await self._acquire_slot(job, live)
        stage = await self._resume_point(job)
        fields: dict[str, Any] = {"progress_text": f"starting {stage}"}
        if job.started_at is None:
            fields["started_at"] = time.time()
        return await self.recorder.transition(job, stage, f"processing starts at {stage}", **fields)

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
        await self.recorder.log(job.id, LogLevel.INFO, f"stage {stage} started")
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
        job = await self.recorder.transition(
            job, target, f"{stage} finished", checkpoint=(stage.value, checkpoint), **fields
        )
        await self.recorder.log(job.id, LogLevel.INFO, f"stage {stage} finished")
        if self.draining and target is not S.CLEANUP:
            self._release_slot(live)
            raise _Paused
        return job

    # -- errors and retries -------------------------------------------------------------------------------

    async def _record_error(self, job: JobRecord, live: _Live, stage: JobState, exc: BaseException) -> JobRecord:
        exc = disk_error(exc, f"the work folder {self.config.work_dir}") or exc
        code = exc.code if isinstance(exc, ArchivedError) else type(exc).__name__
        message = self.recorder.redact(str(exc) or repr(exc))
        if not isinstance(exc, ArchivedError):
            log.error("job %s: unexpected %s in %s", job.id, type(exc).__name__, stage, exc_info=exc)
            message = f"unexpected {type(exc).__name__}: {message}"
        await self.recorder.log(job.id, LogLevel.ERROR, f"{stage} failed ({code}): {message}")
        if isinstance(exc, IntegrityError) and stage is S.POST_PROCESSING:
            await self.store.drop_checkpoints(job.id, [S.ACTIVITY_ARCHIVING.value])
        if isinstance(exc, IntegrityError) and stage is S.STORE:
            await self.store.drop_checkpoints(job.id, [S.POST_PROCESSING.value])
        return await self.recorder.transition(
            job,
            S.ERROR,
            f"{stage} failed: {code}",
            failed_stage=stage,
            error_code=code,
            error_message=message,
            error_recoverable=is_recoverable(exc),
            run_seconds=self._run_seconds(job, live),
            progress_text=f"error in {stage}",
        )

    async def _classify(self, job: JobRecord) -> JobRecord:
        recoverable = job.error_recoverable
        retry = self.config.retry
        if recoverable and job.retries < retry.max_retries:
            attempt = job.retries + 1
            delay = backoff_delay(attempt, base=retry.backoff_base_seconds, maximum=retry.backoff_max_seconds)
            await self.recorder.log(
                job.id, LogLevel.WARNING, f"recoverable error; retry {attempt}/{retry.max_retries} in {delay:.0f} s"
            )
            return await self.recorder.transition(
                job,
                S.RECOVERABLE_ERROR,
                f"retry {attempt} in {delay:.0f} s",
                retries=attempt,
                next_retry_at=time.time() + delay,
                progress_text=f"waiting {delay:.0f} s before retry {attempt}",
            )
        reason = "not recoverable" if not recoverable else f"retries exhausted ({job.retries})"
        return await self.recorder.transition(job, S.FAILURE, reason)

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
        return await self.recorder.transition(
            job, stage, f"retry {job.retries} of {stage}", run_seconds=self._run_seconds(job, live)
        )

    # -- the end ------------------------------------------------------------------------------------------

    async def _enter_cleanup(self, job: JobRecord, outcome: Outcome, reason: str) -> JobRecord:
        if outcome is Outcome.TIMED_OUT:
            await self.recorder.log(job.id, LogLevel.ERROR, f"job timed out after {job.timeout_seconds / 60:.0f} min")
        return await self.recorder.transition(job, S.CLEANUP, reason, outcome=outcome, progress_text="cleaning up")

    async def _cleanup(self, job: JobRecord) -> JobRecord:
        outcome = job.outcome or Outcome.FAILED
        work = self.stages.work_dir(job.id)
        if outcome is Outcome.COMPLETED:
            await asyncio.to_thread(shutil.rmtree, work, True)
        else:
            # Keep the finished stages' outputs (a retry resumes from them); remove half-written files.
            await asyncio.to_thread(remove_partial_files, work)
        final = outcome.final_state
        # The transition to the terminal state emits `job.completed|failed|aborted` with it (one per ending).
        job = await self.recorder.transition(
            job, final, f"cleanup done: {outcome}", finished_at=time.time(), progress_text=str(outcome)
        )
        level = LogLevel.INFO if final is S.COMPLETED else LogLevel.WARNING
        await self.recorder.log(job.id, level, f"job ended: {final}")
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
