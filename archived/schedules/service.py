"""The daemon's schedules: managed through the socket, kept in the store, timed by APScheduler 3's AsyncIOScheduler.

The store says what exists and when each schedule runs next; APScheduler only wakes the service at cron times (and
hourly, for what a wake-up may have missed, idle schedules and policy reminders). Cron times missed while the daemon
was down are run once at start (coalesced) and reported as such. Every run records what it selected, the jobs it
created, and everything it skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from archived.config import PolicyConfig
from archived.errors import ArchivedError, FatalError
from archived.overview.index import CourseIndex
from archived.policies.report import allowed_categories, policy_report
from archived.protocol.base import wire_time
from archived.protocol.daemon import ScheduledRun
from archived.protocol.events import EventPayload, PolicyReminder, ScheduleIdle, ScheduleRan
from archived.protocol.schedules import (
    EditScheduleParams,
    PolicyReport,
    RunPage,
    RunTrigger,
    ScheduleList,
    ScheduleParams,
    ScheduleRun,
    ScheduleView,
    SelectedActivity,
    SkippedActivity,
)
from archived.schedules.candidates import gather
from archived.schedules.cron import cron_trigger, missed_times, next_time
from archived.schedules.records import RunRecord, ScheduleRecord, ScheduleRecords
from archived.schedules.rules import DAY, Candidate, SkipReason, select
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord

log = logging.getLogger("archived.schedules")

HOURLY_SECONDS = 3600.0


class NoMoodle(FatalError):
    """Schedules select from the course overview, which needs `[moodle]`."""

    code = "invalid_state"


class JobCreator(Protocol):
    """What a run asks of the engine: a new job for one activity."""

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
    ) -> tuple[JobRecord, list[str]]: ...


def outcome_text(run: RunRecord) -> str:
    """A run in one line: "3 selected, 5 skipped (2 unchanged, …)"."""
    if run.error:
        return f"failed: {run.error}"
    created = sum(1 for s in run.selected if s.job_id)
    counts: dict[str, int] = {}
    for skipped in run.skipped:
        counts[skipped.reason] = counts.get(skipped.reason, 0) + 1
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda item: -item[1]))
    words = f"{len(run.selected)} selected" + ("" if run.dry_run else f", {created} job(s) created")
    words += f", {len(run.skipped)} skipped" + (f" ({why})" if why else "")
    if run.missed > 1:
        words += f"; caught up {run.missed} missed runs at once"
    return ("dry run: " if run.dry_run else "") + words


class ScheduleService:
    """Schedules and their runs; `clock` gives the time (tests move it instead of waiting)."""

    def __init__(
        self,
        *,
        records: ScheduleRecords,
        index: CourseIndex | None,
        jobs: JobCreator,
        store: JobStore,
        policy: PolicyConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.records = records
        self.index = index
        self.jobs = jobs
        self.store = store
        self.policy = policy
        self.clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._catching_up: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Keep time with APScheduler, and run in the background what was missed while the daemon was down (once per
        schedule; the daemon's start does not wait for Moodle)."""
        self._scheduler = AsyncIOScheduler()
        for record in await self.records.all():
            self._plan(record)
        self._scheduler.add_job(
            self.hourly, "interval", seconds=HOURLY_SECONDS, id="schedules-hourly", max_instances=1, coalesce=True
        )
        self._scheduler.start()
        self._catching_up = asyncio.create_task(self._catch_up_quietly())

    async def close(self) -> None:
        """Stop keeping time and catching up (a run in progress ends with the daemon's other tasks)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._catching_up is not None:
            self._catching_up.cancel()
            with contextlib.suppress(BaseException):
                await self._catching_up

    async def _catch_up_quietly(self) -> None:
        try:
            await self.catch_up()
        except Exception:  # logged, and the hourly check tries again
            log.exception("catching up missed schedule runs failed")

    def _plan(self, record: ScheduleRecord) -> None:
        """(Re)place the schedule's APScheduler job, or remove it when the schedule is off or gone."""
        if self._scheduler is None:
            return
        if self._scheduler.get_job(record.name) is not None:
            self._scheduler.remove_job(record.name)
        if record.enabled:
            self._scheduler.add_job(
                self._wake, cron_trigger(record.cron, record.timezone), args=[record.name], id=record.name,
                max_instances=1, coalesce=True, misfire_grace_time=None,
            )  # fmt: skip

    async def _wake(self, name: str) -> None:
        try:
            await self.run_due([name])
        except Exception:  # a schedule's failure must not stop APScheduler's other jobs
            log.exception("schedule %s could not run", name)

    async def hourly(self) -> None:
        """What a wake-up may have missed, schedules that selected nothing for too long, policy reminders."""
        try:
            await self.run_due()
            await self.report_idle()
            await self.remind()
        except ArchivedError as exc:
            log.warning("the hourly schedule check failed: %s", exc)

    # -- runs ---------------------------------------------------------------------------------------------

    async def catch_up(self) -> list[RunRecord]:
        """Cron times that passed while the daemon was down: each schedule runs once for all of them."""
        return await self.run_due(starting=True)

    async def run_due(self, names: list[str] | None = None, *, starting: bool = False) -> list[RunRecord]:
        """Run every enabled schedule (of `names`) whose next cron time has come; several cron times passed at once
        (the daemon was down or busy) make one run that says how many it stands for."""
        runs = []
        for record in await self.records.all():
            if names is None or record.name in names:
                run = await self._run_if_due(record.name, starting=starting)
                if run is not None:
                    runs.append(run)
        return runs

    async def _run_if_due(self, name: str, *, starting: bool) -> RunRecord | None:
        async with self._locks.setdefault(name, asyncio.Lock()):
            record = await self.records.get(name)  # again, under the lock: another wake-up may have run it
            now = self.clock()
            if not record.enabled or record.next_run_at is None or record.next_run_at > now:
                return None
            missed = missed_times(cron_trigger(record.cron, record.timezone), record.next_run_at, now)
            if starting or missed > 1:
                log.warning(
                    "schedule %s missed %d run(s) since %s; running it once now",
                    name, missed, wire_time(record.next_run_at),
                )  # fmt: skip
                return await self._run(record, RunTrigger.MISSED, missed)
            return await self._run(record, RunTrigger.CRON, 0)

    async def run(self, name: str, *, trigger: RunTrigger) -> RunRecord:
        """Run a schedule now (or dry-run it), whatever its cron says; a schedule runs one at a time."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            return await self._run(await self.records.get(name), trigger, 0)

    async def _run(self, record: ScheduleRecord, trigger: RunTrigger, missed: int) -> RunRecord:
        """One run: gather the activities in scope, apply the rule, create jobs (not for a dry run), record it all."""
        dry_run = trigger is RunTrigger.DRY_RUN
        run = RunRecord(0, record.name, trigger, dry_run, missed, self.clock(), None, [], [], "")
        try:
            await self._select_and_create(record, run)
        except ArchivedError as exc:
            run.error = str(exc)
            log.warning("schedule %s: run failed: %s", record.name, exc)
        run.finished_at = self.clock()
        following = None
        if trigger in (RunTrigger.CRON, RunTrigger.MISSED):
            following = next_time(cron_trigger(record.cron, record.timezone), run.finished_at)
        selected_at = run.finished_at if run.selected and not dry_run else None
        await self.records.mark_ran(record.name, next_run_at=following, selected_at=selected_at)
        await self.records.record_run(run, lambda run_id: [_ran(run, run_id)])
        log.info("schedule %s (%s): %s", record.name, trigger.value, outcome_text(run))
        return run

    async def _select_and_create(self, record: ScheduleRecord, run: RunRecord) -> None:
        if self.index is None:
            raise NoMoodle("schedules select from the course overview; configure [moodle] first")
        found = await gather(self.index, record.rule)
        running = {job.cmid for job in await self.store.unfinished()}
        allowed = await allowed_categories(self.index, self.policy)
        selection = select(found.activities, record.rule, now=self.clock(), running=running, allowed_categories=allowed)
        for course_id, why in found.unreadable.items():
            run.skipped.append(SkippedActivity(course_id=course_id, reason=SkipReason.COURSE_UNREADABLE, detail=why))
        for skipped in selection.skipped:
            run.skipped.append(_skipped(skipped.candidate, skipped.reason, skipped.detail))
        initiator = Initiator(kind="schedule", name=record.name)
        for candidate in selection.selected:
            chosen = SelectedActivity(
                course_id=candidate.course_id, cmid=candidate.cmid, name=candidate.name, type=candidate.modname
            )
            run.selected.append(chosen)
            if run.dry_run or candidate.driver is None:
                continue
            try:
                job, _ = await self.jobs.create_job(
                    driver=candidate.driver, course_id=candidate.course_id, cmid=candidate.cmid, requested={},
                    initiator=initiator, course_name=candidate.course_name, activity_name=candidate.name,
                )  # fmt: skip
                chosen.job_id = job.id
            except ArchivedError as exc:
                chosen.error = str(exc)

    # -- notifications ------------------------------------------------------------------------------------

    async def report_idle(self) -> list[str]:
        """Report once each enabled schedule that has selected nothing for `policy.idle_days`; returns their names."""
        if self.policy.idle_days <= 0:
            return []
        now = self.clock()
        reported = []
        for record in await self.records.all():
            since = record.last_selected_at or record.created_at
            already = record.idle_reported_at is not None and record.idle_reported_at >= since
            if not record.enabled or already or now - since < self.policy.idle_days * DAY:
                continue
            event = ScheduleIdle(schedule=record.name, since=wire_time(since), days=round((now - since) / DAY, 1))
            await self.records.record_events([event])
            await self.records.mark_idle_reported(record.name, now)
            reported.append(record.name)
        return reported

    async def report(self) -> PolicyReport:
        """`archived policy report`."""
        if self.index is None:
            raise NoMoodle("the policy report reads the course overview; configure [moodle] first")
        return await policy_report(self.index, self.policy, now=self.clock())

    async def remind(self) -> int:
        """A `policy.reminder` per broken mandatory rule and activity, at most every `policy.reminder_hours`."""
        if not self.policy.mandatory or self.index is None:
            return 0
        sent = 0
        for breach in (await self.report()).breaches:
            event = PolicyReminder(
                rule=breach.rule, course_id=breach.course_id, cmid=breach.cmid, name=breach.name, type=breach.type,
                due_at=breach.due_at, badge=breach.badge,
            )  # fmt: skip
            every = self.policy.reminder_hours * 3600
            sent += await self.records.remind(breach.rule, breach.cmid, now=self.clock(), every=every, event=event)
        return sent

    # -- management ---------------------------------------------------------------------------------------

    async def next_runs(self) -> list[ScheduledRun]:
        """For `daemon.status`: each enabled schedule's next run, soonest first."""
        records = [r for r in await self.records.all() if r.enabled]
        records.sort(key=lambda r: (r.next_run_at is None, r.next_run_at or 0))
        return [
            ScheduledRun(name=r.name, next_run_at=wire_time(r.next_run_at), description=f"{r.cron} ({r.timezone})")
            for r in records
        ]

    async def listing(self) -> ScheduleList:
        """Every schedule with its next and last run."""
        return ScheduleList(schedules=[await self.view(record) for record in await self.records.all()])

    async def runs(self, name: str, limit: int) -> RunPage:
        """A schedule's runs, newest first."""
        return RunPage(runs=[run_view(run) for run in await self.records.runs(name, limit)])

    async def add(self, params: ScheduleParams) -> ScheduleRecord:
        """A new schedule; its cron expression and time zone are checked first."""
        trigger = cron_trigger(params.cron, params.timezone)
        now = self.clock()
        record = ScheduleRecord(
            name=params.name, cron=params.cron, timezone=params.timezone, rule=params.rule, enabled=params.enabled,
            next_run_at=next_time(trigger, now), last_selected_at=None, idle_reported_at=None, created_at=now,
            updated_at=now,
        )  # fmt: skip
        await self.records.add(record)
        self._plan(record)
        return record

    async def edit(self, params: EditScheduleParams) -> ScheduleRecord:
        """Change a schedule's cron, time zone or rule; its next run is computed again."""
        record = await self.records.get(params.name)
        record.cron = params.cron if params.cron is not None else record.cron
        record.timezone = params.timezone if params.timezone is not None else record.timezone
        record.rule = params.rule if params.rule is not None else record.rule
        record.next_run_at = next_time(cron_trigger(record.cron, record.timezone), self.clock())
        await self.records.save(record)
        self._plan(record)
        return record

    async def enable(self, name: str, enabled: bool) -> ScheduleRecord:
        """Turn a schedule on (from now: cron times while it was off are not caught up) or off."""
        record = await self.records.get(name)
        record.enabled = enabled
        record.next_run_at = next_time(cron_trigger(record.cron, record.timezone), self.clock())
        await self.records.save(record)
        self._plan(record)
        return record

    async def remove(self, name: str) -> None:
        """Delete a schedule (its runs stay)."""
        await self.records.remove(name)
        if self._scheduler is not None and self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

    async def view(self, record: ScheduleRecord) -> ScheduleView:
        """A schedule with its last run's outcome."""
        last = await self.records.last_run(record.name)
        return ScheduleView(
            name=record.name, cron=record.cron, timezone=record.timezone, rule=record.rule, enabled=record.enabled,
            next_run_at=wire_time(record.next_run_at) if record.enabled else None,
            last_run_at=wire_time(last.started_at) if last else None, last_outcome=outcome_text(last) if last else "",
            last_selected_at=wire_time(record.last_selected_at),
        )  # fmt: skip


def run_view(run: RunRecord) -> ScheduleRun:
    """A run as the protocol shows it."""
    return ScheduleRun(
        id=run.id, schedule=run.schedule, trigger=run.trigger, dry_run=run.dry_run,
        started_at=wire_time(run.started_at), finished_at=wire_time(run.finished_at), missed=run.missed,
        selected=run.selected, skipped=run.skipped, error=run.error, outcome=outcome_text(run),
    )  # fmt: skip


def _skipped(c: Candidate, reason: SkipReason, detail: str) -> SkippedActivity:
    return SkippedActivity(
        course_id=c.course_id, cmid=c.cmid, name=c.name, type=c.modname, reason=reason.value, detail=detail
    )


def _ran(run: RunRecord, run_id: int) -> EventPayload:
    return ScheduleRan(
        schedule=run.schedule, run_id=run_id, trigger=run.trigger.value, dry_run=run.dry_run, missed=run.missed,
        selected=len(run.selected), skipped=len(run.skipped), job_ids=[s.job_id for s in run.selected if s.job_id],
        error=run.error,
    )  # fmt: skip
