"""A `categories` filter asks the daemon's course overview (here the real one, reading the Moodle simulator over
HTTP) which courses a category holds, subcategories included; events that name no job match by the course they name,
and those about no course only with `site_events`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from archived.config import parse_config
from archived.connectors.service import Connectors
from archived.events.bus import EventBus
from archived.events.dispatcher import EventDispatcher
from archived.moodle.factory import build_moodle_api
from archived.overview.index import CourseIndex
from archived.protocol.events import JobDeleted, PolicyReminder, ScheduleIdle, ScheduleRan
from archived.protocol.jobs import Initiator
from archived.simulator.simulator import MoodleSimulator
from archived.store.jobs import JobStore

from .conftest import HOUR, add_job, secret_file
from .receiver import WebhookReceiver

# The seeded site: category 2 holds course 3 and subcategory 3, which holds courses 2 and 4; category 1 is empty.
FILTERS = {"faculty": [2], "institute": [3], "empty": [1]}


@pytest.fixture
async def overview(store: JobStore, tmp_path: Path) -> AsyncIterator[tuple[CourseIndex, dict[str, object]]]:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        moodle = {"url": sim.url, "token_file": str(secret_file(tmp_path, "token", sim.token)),
                  "requests_per_second": 0}  # fmt: skip
        config = parse_config({"moodle": moodle})
        assert config.moodle is not None
        api = build_moodle_api(config.moodle, sim.token)
        index = CourseIndex(
            api=api, moodle=config.moodle, refresh_cooldown=0, drivers={}, store=store, bus=EventBus()
        )  # fmt: skip
        yield index, moodle
        await api.client.aclose()


async def test_a_category_filter_takes_the_courses_of_the_category_and_its_subcategories(
    store: JobStore, overview: tuple[CourseIndex, dict[str, object]]
) -> None:
    index, moodle = overview
    receivers = {name: WebhookReceiver().start() for name in FILTERS}
    tables = {
        name: {"driver": "webhook", "url": receivers[name].url, "events": ["job.created"], "categories": categories}
        for name, categories in FILTERS.items()
    }
    connectors = Connectors(parse_config({"moodle": moodle, "connectors": tables}), store)
    connectors.use_course_overview(index)
    dispatcher = EventDispatcher(store.outbox, list(connectors.consumers.values()), poll_seconds=HOUR)
    await dispatcher.start()
    try:
        for job_id, course in (("in-3", 3), ("in-2", 2), ("in-4", 4), ("unknown-99", 99)):
            await add_job(store, job_id, course_id=course)
        assert await dispatcher.flush(30)
    finally:
        await dispatcher.stop()
        await connectors.close()
        for receiver in receivers.values():
            receiver.stop()
    taken = {name: [r.json()["data"]["job"]["id"] for r in receiver.requests] for name, receiver in receivers.items()}
    assert taken == {"faculty": ["in-3", "in-2", "in-4"], "institute": ["in-2", "in-4"], "empty": []}


async def test_events_match_a_scoped_filter_by_the_course_they_name_and_site_events_only_when_asked(
    store: JobStore, overview: tuple[CourseIndex, dict[str, object]]
) -> None:
    index, moodle = overview
    kinds = ["policy.reminder", "schedule.run", "schedule.idle", "job.created", "job.deleted"]
    filters: dict[str, dict[str, object]] = {
        "exams": {"categories": [3]},
        "exams_and_site": {"categories": [3], "site_events": True},
        "course_3_and_site": {"courses": [3], "site_events": True},
    }
    receivers = {name: WebhookReceiver().start() for name in filters}
    tables = {
        name: {"driver": "webhook", "url": receivers[name].url, "events": kinds, **scope}
        for name, scope in filters.items()
    }
    connectors = Connectors(parse_config({"moodle": moodle, "connectors": tables}), store)
    connectors.use_course_overview(index)
    dispatcher = EventDispatcher(store.outbox, list(connectors.consumers.values()), poll_seconds=HOUR)
    await dispatcher.start()
    try:
        for course_id in (2, 3):  # a reminder names its course (2 is in category 3; 3 only in category 2)
            reminder = PolicyReminder(
                rule="every quiz in category 3", course_id=course_id, cmid=course_id, name="Final exam", type="quiz",
                due_at=1_800_000_000, badge="never",
            )  # fmt: skip
            await store.outbox.append(reminder, job_id=None)
        ran = ScheduleRan(
            schedule="nightly", run_id=1, trigger="cron", dry_run=False, selected=0, skipped=0, job_ids=[]
        )  # fmt: skip
        await store.outbox.append(ran, job_id=None)
        await store.outbox.append(ScheduleIdle(schedule="nightly", since=1_800_000_000, days=14), job_id=None)
        await add_job(store, "in-2", course_id=2)
        # About a job the store does not know (any more): no course to match, and not a site event either.
        gone = JobDeleted(job_id="gone", by=Initiator(kind="operator", name="tester"), deleted=[])
        await store.outbox.append(gone, job_id="gone")
        assert await dispatcher.flush(30)
    finally:
        await dispatcher.stop()
        await connectors.close()
        for receiver in receivers.values():
            receiver.stop()

    def taken(name: str) -> list[tuple[str, object]]:
        bodies = [r.json() for r in receivers[name].requests]
        return [(b["kind"], b["data"].get("course_id", b["data"].get("job", {}).get("course_id"))) for b in bodies]

    assert taken("exams") == [("policy.reminder", 2), ("job.created", 2)]
    assert taken("exams_and_site") == [
        ("policy.reminder", 2), ("schedule.run", None), ("schedule.idle", None), ("job.created", 2),
    ]  # fmt: skip
    assert taken("course_3_and_site") == [("policy.reminder", 3), ("schedule.run", None), ("schedule.idle", None)]
