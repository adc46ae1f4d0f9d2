"""Schedules with a clock the test moves: a cron schedule fires at its time, missed runs after a restart run once,
a dry run creates nothing, a rule selects exactly the closed and changed activities of the simulated site; idle
schedules, failed scheduled jobs and broken mandatory rules become events in the outbox."""

from __future__ import annotations

import time

from archived.config import MandatoryRule, PolicyConfig
from archived.protocol.events import JobFailed
from archived.protocol.schedules import EditScheduleParams, RunTrigger, ScheduleParams, SelectionRule
from archived.protocol.states import JobState
from archived.schedules.failures import ScheduledJobFailures
from archived.schedules.records import ScheduleRecords
from archived.store.events import StoredEvent
from archived.store.records import Initiator, JobRecord

from .conftest import DAY, EXAM_QUIZ, EXAM_QUIZ_ID, MIDTERM_QUIZ, MIDTERM_QUIZ_ID, Site

NIGHTLY = ScheduleParams(
    name="nightly", cron="0 2 * * mon-fri", timezone="Europe/Berlin", rule=SelectionRule(types=["quiz"])
)


async def test_a_cron_schedule_fires_at_its_time_and_not_before(site: Site) -> None:
    service = site.service()
    record = await service.add(NIGHTLY)
    assert record.next_run_at == site.clock.now + 90 * 60  # 02:00 in Berlin
    site.clock.advance(60 * 60)
    assert await service.run_due() == []
    assert await site.jobs() == []

    site.clock.advance(31 * 60)
    [run] = await service.run_due()
    assert run.trigger is RunTrigger.CRON and run.missed == 0 and not run.error
    assert {(s.course_id, s.cmid) for s in run.selected} == {(2, EXAM_QUIZ), (3, MIDTERM_QUIZ)}
    assert sorted(await site.jobs()) == [(EXAM_QUIZ, "nightly"), (MIDTERM_QUIZ, "nightly")]
    assert all(s.job_id for s in run.selected)
    skipped = {s.cmid: s.reason for s in run.skipped}
    assert skipped[1] == "type_not_selected"  # course 2's resource
    assert await service.run_due() == []  # once per cron time
    after = await service.records.get("nightly")
    assert after.next_run_at == record.next_run_at + DAY  # Tuesday 02:00

    [event] = await site.events("schedule.run")
    assert event["schedule"] == "nightly" and event["trigger"] == "cron" and event["run_id"] == run.id
    assert sorted(event["job_ids"]) == sorted(s.job_id for s in run.selected if s.job_id)


async def test_runs_missed_while_the_daemon_was_down_run_once_after_the_restart(site: Site) -> None:
    service = site.service()
    await service.add(NIGHTLY.model_copy(update={"cron": "0 * * * *"}))
    site.clock.advance(3 * DAY)  # the daemon was down for three days: 72 hourly runs missed

    restarted = site.service()
    [run] = await restarted.catch_up()
    assert run.trigger is RunTrigger.MISSED and run.missed == 72
    assert len(await site.jobs()) == 2  # one run's jobs, not 72 runs' worth
    assert await restarted.catch_up() == []
    assert await restarted.run_due() == []
    [listed] = (await restarted.runs("nightly", 10)).runs
    assert listed.trigger == "missed" and "caught up 72 missed runs" in listed.outcome


async def test_a_dry_run_creates_nothing_and_keeps_the_next_run(site: Site) -> None:
    service = site.service()
    record = await service.add(NIGHTLY)
    run = await service.run("nightly", trigger=RunTrigger.DRY_RUN)
    assert run.dry_run and {s.cmid for s in run.selected} == {EXAM_QUIZ, MIDTERM_QUIZ}
    assert all(s.job_id is None for s in run.selected)
    assert await site.jobs() == []
    assert (await service.records.get("nightly")).next_run_at == record.next_run_at
    [event] = await site.events("schedule.run")
    assert event["dry_run"] is True and event["job_ids"] == []


async def test_a_rule_selects_exactly_the_closed_and_changed_activities(site: Site) -> None:
    now = site.clock.now
    site.close_quiz(EXAM_QUIZ_ID, now - 3 * DAY)  # closed long enough
    site.close_quiz(MIDTERM_QUIZ_ID, now - 0.5 * DAY)  # closed, but not for a day yet
    service = site.service()
    rule = SelectionRule(types=["quiz"], closed_days=1, changed_only=True)
    await service.add(ScheduleParams(name="closed", cron="0 2 * * *", rule=rule))

    first = await service.run("closed", trigger=RunTrigger.RUN_NOW)
    assert [(s.cmid, s.type) for s in first.selected] == [(EXAM_QUIZ, "quiz")]
    reasons = {s.cmid: s.reason for s in first.skipped}
    assert reasons[MIDTERM_QUIZ] == "closed_recently" and reasons[1] == "type_not_selected"

    # Its job has not ended: the next run leaves it.
    second = await service.run("closed", trigger=RunTrigger.DRY_RUN)
    assert second.selected == [] and {s.cmid: s.reason for s in second.skipped}[EXAM_QUIZ] == "running_job"

    # Archived as it is now: unchanged, left; a student's later save makes it changed, selected again.
    view = await site.index.show(2)
    fingerprint = next(a["fingerprint"] for a in view["activities"] if a["cmid"] == EXAM_QUIZ)
    [job] = [j for j in await site.store.unfinished() if j.cmid == EXAM_QUIZ]
    await site.mark_archived(job, fingerprint)
    third = await service.run("closed", trigger=RunTrigger.DRY_RUN)
    assert third.selected == [] and {s.cmid: s.reason for s in third.skipped}[EXAM_QUIZ] == "unchanged"
    with site.sim.world.lock:
        site.sim.world.attempts[10].timemodified += 10**6
    fourth = await service.run("closed", trigger=RunTrigger.DRY_RUN)
    assert [s.cmid for s in fourth.selected] == [EXAM_QUIZ]

    # A day later the midterm is closed long enough too; a cap of one job per run leaves it for the next run.
    site.clock.advance(DAY)
    await service.edit(EditScheduleParams(name="closed", rule=rule.model_copy(update={"max_jobs": 1})))
    fifth = await service.run("closed", trigger=RunTrigger.DRY_RUN)
    assert [s.cmid for s in fifth.selected] == [EXAM_QUIZ]
    assert {s.cmid: s.reason for s in fifth.skipped}[MIDTERM_QUIZ] == "over_cap"


async def test_the_category_allow_list_limits_what_schedules_select(site: Site) -> None:
    service = site.service(PolicyConfig(categories=[3]))  # the Exams category: course 2, not course 3
    await service.add(NIGHTLY)
    run = await service.run("nightly", trigger=RunTrigger.DRY_RUN)
    assert [s.cmid for s in run.selected] == [EXAM_QUIZ]
    assert {s.cmid: s.reason for s in run.skipped}[MIDTERM_QUIZ] == "category_not_allowed"


async def test_a_schedule_selecting_nothing_for_too_long_is_reported_once(site: Site) -> None:
    service = site.service(PolicyConfig(idle_days=2))
    await service.add(ScheduleParams(name="none", cron="0 2 * * *", rule=SelectionRule(types=["assign"])))
    await service.run("none", trigger=RunTrigger.RUN_NOW)
    assert await service.report_idle() == []
    site.clock.advance(2 * DAY)
    assert await service.report_idle() == ["none"]
    assert await service.report_idle() == []
    [event] = await site.events("schedule.idle")
    assert event["schedule"] == "none" and event["days"] == 2.0


async def test_a_broken_mandatory_rule_is_reported_and_reminded_of_daily(site: Site) -> None:
    now = site.clock.now
    site.close_quiz(EXAM_QUIZ_ID, now - 3 * DAY)
    site.close_quiz(MIDTERM_QUIZ_ID, now - 3 * DAY)
    policy = PolicyConfig(mandatory=[MandatoryRule(category=3, type="quiz", within_days=2)])
    service = site.service(policy)
    report = await service.report()
    [breach] = report.breaches  # course 3 (the midterm) is not in category 3
    assert (breach.course_id, breach.cmid, breach.badge) == (2, EXAM_QUIZ, "never")
    assert breach.due_at.timestamp() == int(now - DAY)
    assert await service.remind() == 1
    assert await service.remind() == 0
    site.clock.advance(DAY)
    assert await service.remind() == 1
    events = await site.events("policy.reminder")
    assert len(events) == 2 and events[0]["cmid"] == EXAM_QUIZ


async def test_a_failed_scheduled_job_becomes_a_schedule_event(site: Site) -> None:
    records = ScheduleRecords(site.store.db, site.store.outbox)
    now = time.time()
    jobs = [
        JobRecord(
            id=f"job-{who}",
            driver="quiz",
            course_id=2,
            cmid=EXAM_QUIZ,
            initiator=Initiator(who, "nightly"),
            settings={},
            state=JobState.FAILED,
            timeout_seconds=60,
            created_at=now,
            updated_at=now,
        )
        for who in ("schedule", "operator")
    ]
    events = [
        StoredEvent(i, "job.failed", 1, job.id, JobFailed(job=job.to_summary()).to_data(), now)
        for i, job in enumerate(jobs, start=1)
    ]
    await ScheduledJobFailures(records).deliver(events)
    [event] = await site.events("schedule.job_failed")
    assert event["schedule"] == "nightly" and event["job"]["id"] == "job-schedule"


async def test_apscheduler_keeps_the_stores_next_run_of_each_enabled_schedule(site: Site) -> None:
    service = site.service()
    service.clock = time.time  # APScheduler keeps real time
    await service.start()
    try:
        assert service._scheduler is not None
        record = await service.add(NIGHTLY)
        job = service._scheduler.get_job("nightly")
        assert job is not None and job.next_run_time.timestamp() == record.next_run_at
        await service.enable("nightly", False)
        assert service._scheduler.get_job("nightly") is None
        await service.enable("nightly", True)
        assert service._scheduler.get_job("nightly") is not None
        await service.remove("nightly")
        assert service._scheduler.get_job("nightly") is None
        assert [r.name for r in await service.records.all()] == []
    finally:
        await service.close()
