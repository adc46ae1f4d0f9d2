"""A `categories` filter asks the daemon's course overview (here the real one, reading the Moodle simulator over
HTTP) which courses a category holds, subcategories included."""

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
