"""How the TUI copes with a large site: 10,000 jobs, 5,000 courses, a burst of 100,000 progress events.

Not a test (no timing assertions in tests): it prints its method and numbers. Run it with
    .venv/bin/python -m tests.tui.large_site
The daemon is the recorded one (`recorded.py`) scaled up, so only the TUI's own cost is measured.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from archived_tui.app import ArchivedApp
from archived_tui.settings_file import TuiSettings
from archived_tui.widgets.course_table import CourseTable
from archived_tui.widgets.job_table import JobTable
from tests.tui.conftest import settle, until
from tests.tui.recorded import FROZEN_CLOCK, RecordedDaemon, _at, activities, job_summary

JOBS = 10_000
COURSES = 5_000
EVENTS = 100_000


class LargeSite(RecordedDaemon):
    """The recorded daemon with 10,000 jobs and 5,000 courses, and an event stream the script controls."""

    def __init__(self) -> None:
        super().__init__()
        template = job_summary(1)
        self.jobs = [
            {**template, "id": f"{n:08x}-0000-4000-8000-{n:012x}", "cmid": 10_000 + n, "created_at": _at(n / 10)}
            for n in range(JOBS)
        ]
        self.courses = [
            {"id": 1000 + n, "shortname": f"C{n:05d}", "fullname": f"Course {n}", "category_id": 11,
             "category_name": "Mathematics", "visible": True, "activity_count": 4}
            for n in range(COURSES)
        ]  # fmt: skip
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Whatever the script puts into `queue`."""
        while True:
            yield await self.queue.get()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        if method == "jobs.list":
            return {"jobs": self.jobs[offset : offset + limit], "total": JOBS, "offset": offset}
        if method == "courses.list":
            return {"courses": self.courses[offset : offset + limit], "total": COURSES}
        if method == "courses.show":
            course = self.courses[params["course_id"] - 1000]
            return {"course": course, "activities": activities(101), "refreshed_at": _at(1)}
        return super()._answer(method, params)


async def measure() -> None:
    """Open the screens, page through, and flood the event stream; print what it took."""
    site = LargeSite()
    app = ArchivedApp(Path("/x.sock"), settings=TuiSettings(timezone="UTC"), client_factory=lambda: site,
                      clock=FROZEN_CLOCK, initial_mode="jobs", notify_finished=False)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.perf_counter()
        await settle(pilot)
        table = app.screen.query_one(JobTable)
        print(f"jobs screen with the first page of {JOBS:,} jobs: {time.perf_counter() - started:.2f} s "
              f"({len(table.order)} rows loaded)")  # fmt: skip

        started = time.perf_counter()
        presses = 0
        while len(table.order) < 1000:
            await pilot.press("pagedown")
            presses += 1
        print(f"paging down to 1,000 loaded rows: {time.perf_counter() - started:.2f} s for {presses} page-downs "
              "(each key press includes the test pilot's wait until the app is idle)")  # fmt: skip

        started = time.perf_counter()
        new = {**site.jobs[0], "id": "ffffffff-0000-4000-8000-000000000000", "created_at": _at(-1)}
        site.queue.put_nowait({"kind": "job.created", "job_id": new["id"], "at": 0.0, "data": {"job": new}})
        await until(pilot, lambda: table.order[0] == new["id"], "the new job at the top")
        print(f"a new job inserted at the top of {len(table.order) - 1:,} loaded rows: "
              f"{time.perf_counter() - started:.2f} s (includes the 0.1 s event batching)")  # fmt: skip

        started = time.perf_counter()
        visible = [job["id"] for job in site.jobs[:1000]]
        for n in range(EVENTS):
            job_id = visible[n % len(visible)]
            site.queue.put_nowait({"kind": "job.progress", "job_id": job_id, "at": 0.0,
                                   "data": {"progress": (n // len(visible)) % 100, "text": f"event {n}"}})  # fmt: skip
        last = visible[(EVENTS - 1) % len(visible)]
        await until(pilot, lambda: table.items[last].progress_text == f"event {EVENTS - 1}", "the last event", 120)
        print(f"{EVENTS:,} progress events for 1,000 shown jobs applied in {time.perf_counter() - started:.2f} s")

        await pilot.press("2")
        started = time.perf_counter()
        await settle(pilot)
        courses = app.screen.query_one(CourseTable)
        await until(pilot, lambda: courses.total == COURSES, "the courses")
        print(f"courses screen with the first page of {COURSES:,} courses: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    asyncio.run(measure())
