"""The course overview: categories → courses → activities, with what can be archived and what changed.

Structure (categories and courses) is cheap to fetch and refreshed on an interval (APScheduler) and on demand.
A course's activities (`core_course_get_contents`) and their status from the activity drivers (`inspect`:
archivable now or why not, fingerprint) cost more — for a quiz one call per enrolled user — so they are
fetched when someone looks at the course and cached until the next refresh. The badge of an activity compares
its current fingerprint with the one recorded by its last completed archive job.

Anyone who can open the socket may ask for a refresh, so a refresh asked for within
`daemon.overview_refresh_cooldown_seconds` of the last one (of the whole site, or of that course) keeps the data
already fetched instead of asking Moodle again; a failed one is not retried within that time either. Only a
forced refresh (operators) and the daemon's own schedule skip the cooldown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from archived.config import MoodleConfig
from archived.errors import ArchivedError, FatalError, RecoverableError
from archived.events.bus import Event, EventBus
from archived.interfaces.activity import ActivityDriver
from archived.jobs.category_presets import CoursePlace
from archived.moodle.api import MoodleApi
from archived.moodle.models import ModuleDate
from archived.store.jobs import JobStore
from archived.store.records import iso

log = logging.getLogger("archived.overview")

FRONT_PAGE_COURSE = 1
# `daemon.status` asks Moodle again (in the background) when its last check is older than this.
MOODLE_CHECK_SECONDS = 60.0
# Moodle 5.0 keeps each course's questions in a hidden `qbank` module, which course contents may list.
QUESTION_BANK = "qbank"


class OverviewNotFound(FatalError):
    """No such course or activity (or the service user cannot see it)."""

    code = "not_found"


class UnsupportedActivity(FatalError):
    """No installed activity driver archives this kind of activity."""

    code = "unsupported_activity"


class RefreshCoolingDown(RecoverableError):
    """The last refresh of this part of the overview failed moments ago; Moodle is not asked again yet."""

    code = "refresh_cooldown"


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did: fetched from Moodle now, or kept the data fetched at `at` (within the cooldown)."""

    at: float
    fetched: bool


@dataclass
class _Attempt:
    at: float
    error: str | None = None


@dataclass
class CategoryEntry:
    """A course category."""

    id: int
    name: str
    parent: int
    path: str
    depth: int
    course_count: int = 0


@dataclass
class CourseEntry:
    """A course as the overview lists it."""

    id: int
    shortname: str
    fullname: str
    category_id: int | None
    category_name: str
    visible: bool
    activity_count: int | None = None  # None until the course's activities were fetched


@dataclass
class ActivityEntry:
    """One activity of a course with its archiving status."""

    cmid: int
    modname: str
    name: str
    driver: str | None
    supported: bool
    archivable: bool = False
    reason: str | None = None
    badge: str = "never"  # archived | changed | never | unsupported | not_ready
    fingerprint: str | None = None
    last_archive: dict[str, Any] | None = None
    closes_at: float | None = None  # Unix time a quiz closes or an assignment is due (course contents' dates)


@dataclass
class _CourseActivities:
    activities: list[ActivityEntry]
    fetched_at: float
    course_name: str
    inspected: bool = False
    error: str | None = None


@dataclass
class FoundActivity:
    """What `jobs.create` needs to know about an activity."""

    driver: str
    course_name: str
    name: str


@dataclass
class MoodleStatus:
    """Reachability of the Moodle site, as last checked."""

    url: str
    reachable: bool | None = None
    release: str | None = None
    sitename: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    checked_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["checked_at"] = iso(self.checked_at)
        return data


@dataclass
class _State:
    categories: dict[int, CategoryEntry] = field(default_factory=dict)
    courses: dict[int, CourseEntry] = field(default_factory=dict)
    refreshed_at: float | None = None
    error: str | None = None


class CourseIndex:
    """The daemon's index of what can be archived."""

    def __init__(
        self,
        *,
        api: MoodleApi,
        moodle: MoodleConfig,
        refresh_cooldown: float,
        drivers: Mapping[str, ActivityDriver],
        store: JobStore,
        bus: EventBus,
    ) -> None:
        self.api = api
        self.drivers = drivers
        self.store = store
        self.bus = bus
        self.refresh_minutes = moodle.overview_refresh_minutes
        self.refresh_cooldown = refresh_cooldown  # daemon.overview_refresh_cooldown_seconds
        self._site_attempt: _Attempt | None = None
        self._course_failures: dict[int, _Attempt] = {}
        self.status = MoodleStatus(url=moodle.url)
        self._state = _State()
        self._activities: dict[int, _CourseActivities] = {}
        self._refresh_lock = asyncio.Lock()
        self._course_locks: dict[int, asyncio.Lock] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._initial: asyncio.Task[None] | None = None
        self._site_check: asyncio.Task[None] | None = None
        self._by_modname: dict[str, ActivityDriver] = {d.modname: d for d in drivers.values()}
        self._driver_names = {d.modname: name for name, d in drivers.items()}

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Refresh in the background (startup never waits for Moodle) and on the configured interval."""
        self._initial = asyncio.create_task(self._refresh_quietly())
        if self.refresh_minutes > 0:
            self._scheduler = AsyncIOScheduler()
            self._scheduler.add_job(
                self._refresh_quietly, "interval", minutes=self.refresh_minutes, id="overview-refresh",
                max_instances=1, coalesce=True,
            )  # fmt: skip
            self._scheduler.start()

    async def close(self) -> None:
        """Stop refreshing."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for task in (self._initial, self._site_check):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh(force=True)  # the daemon's own schedule
        except ArchivedError as exc:
            log.warning("course overview refresh failed: %s", exc)

    # -- refresh ------------------------------------------------------------------------------------------

    async def refresh(self, course_id: int | None = None, *, force: bool = False) -> RefreshOutcome:
        """Fetch categories and courses again (or one course's activities), unless that was done within the
        cooldown and `force` is not set; concurrent calls wait for the one running and share its result."""
        if course_id is not None:
            return await self._refresh_course(course_id, force=force)
        async with self._refresh_lock:
            last = self._site_attempt
            if not force and last is not None and self._within_cooldown(last.at):
                self._raise_if_failed(last, "the course overview")
                return RefreshOutcome(self._state.refreshed_at or last.at, fetched=False)
            self._site_attempt = _Attempt(time.time())
            try:
                return RefreshOutcome(await self._fetch_site(), fetched=True)
            except ArchivedError as exc:
                self._site_attempt.error = str(exc)
                raise

    async def _refresh_course(self, course_id: int, *, force: bool) -> RefreshOutcome:
        await self._ready()
        if course_id not in self._state.courses:  # unknown ids never reach Moodle (nor fill these maps)
            raise OverviewNotFound(f"no course with id {course_id} (or the service user cannot see it)")
        async with self._course_locks.setdefault(course_id, asyncio.Lock()):
            cached = self._activities.get(course_id)
            failed = self._course_failures.get(course_id)
            if not force and failed is not None and self._within_cooldown(failed.at):
                self._raise_if_failed(failed, f"course {course_id}")
            if not force and cached is not None and cached.inspected and self._within_cooldown(cached.fetched_at):
                return RefreshOutcome(cached.fetched_at, fetched=False)
            self._activities.pop(course_id, None)
            started = time.time()
            try:
                cached = await self._load_activities(course_id, inspect=True)
            except ArchivedError as exc:
                self._course_failures[course_id] = _Attempt(started, str(exc))
                raise
            self._course_failures.pop(course_id, None)
            return RefreshOutcome(cached.fetched_at, fetched=True)

    def _within_cooldown(self, at: float) -> bool:
        return time.time() - at < self.refresh_cooldown

    def _raise_if_failed(self, attempt: _Attempt, what: str) -> None:
        """A failed attempt within the cooldown is reported again rather than retried against Moodle."""
        if attempt.error is not None:
            age = time.time() - attempt.at
            raise RefreshCoolingDown(
                f"{what} was fetched from Moodle {age:.0f} s ago and that failed: {attempt.error}; it is fetched "
                f"again after {self.refresh_cooldown - age:.0f} s (daemon.overview_refresh_cooldown_seconds), "
                "or an operator can force it now (archived courses refresh --force)"
            )

    async def _fetch_site(self) -> float:
        """Categories and courses from Moodle; returns when they were fetched."""
        await self._read_site_info()
        categories = await self.api.categories()
        courses = (await self.api.courses_by_field()).courses
        state = _State(refreshed_at=time.time())
        for category in categories:
            state.categories[category.id] = CategoryEntry(
                id=category.id,
                name=category.name,
                parent=category.parent,
                path=category.path,
                depth=category.depth or max(1, category.path.count("/")),
            )
        for course in courses:
            if course.id == FRONT_PAGE_COURSE:
                continue
            entry = state.categories.get(course.categoryid or 0)
            if entry is not None:
                entry.course_count += 1
            old = self._state.courses.get(course.id)
            state.courses[course.id] = CourseEntry(
                id=course.id,
                shortname=course.shortname,
                fullname=course.fullname,
                category_id=course.categoryid,
                category_name=course.categoryname or (entry.name if entry else ""),
                visible=bool(course.visible if course.visible is not None else 1),
                activity_count=old.activity_count if old else None,
            )
        self._state = state
        self._activities.clear()  # re-fetched (and re-inspected) when next looked at
        self.bus.publish(_event(len(state.courses)))
        return state.refreshed_at or time.time()

    def _mark_unreachable(self, exc: BaseException) -> None:
        self.status = MoodleStatus(url=self.status.url, reachable=False, error=str(exc), checked_at=time.time())

    def moodle_status(self) -> dict[str, Any]:
        """For `daemon.status`; a check older than `MOODLE_CHECK_SECONDS` starts another in the background (this
        answer does not wait for it: it says when the one it reports was made)."""
        checked = self.status.checked_at
        idle = (self._initial is None or self._initial.done()) and (self._site_check is None or self._site_check.done())
        if idle and checked is not None and time.time() - checked > MOODLE_CHECK_SECONDS:
            self._site_check = asyncio.create_task(self._check_site())
        return self.status.to_dict()

    async def _check_site(self) -> None:
        """Is Moodle reachable now (its site info, nothing else)? The status says; an error is not raised."""
        with contextlib.suppress(ArchivedError):
            await self._read_site_info()

    async def _read_site_info(self) -> None:
        """Moodle's site info now: the status becomes reachable with its latency, or unreachable with the error
        (which is raised)."""
        started = time.perf_counter()
        try:
            site = await self.api.site_info(refresh=True)
        except ArchivedError as exc:
            self._mark_unreachable(exc)
            raise
        self.status = MoodleStatus(
            url=self.status.url,
            reachable=True,
            release=site.release,
            sitename=site.sitename,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            checked_at=time.time(),
        )

    async def _ready(self) -> None:
        if self._state.refreshed_at is None:
            if self._initial is not None and not self._initial.done():
                await asyncio.shield(self._initial)
            if self._state.refreshed_at is None:
                await self.refresh()

    # -- queries ------------------------------------------------------------------------------------------

    async def tree(self) -> dict[str, Any]:
        """Categories (with course counts) in display order."""
        await self._ready()
        categories = sorted(self._state.categories.values(), key=lambda c: [int(p) for p in c.path.split("/") if p])
        return {"categories": [asdict(c) for c in categories], "refreshed_at": iso(self._state.refreshed_at)}

    async def list_courses(
        self, *, category_id: int | None, search: str | None, badge: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        """Courses filtered by category (with its subcategories), text and activity badge."""
        await self._ready()
        courses = list(self._state.courses.values())
        if category_id is not None:
            wanted = {c.id for c in self._state.categories.values() if str(category_id) in c.path.split("/")}
            courses = [c for c in courses if c.category_id in wanted]
        if search:
            needle = search.casefold()
            courses = [c for c in courses if needle in f"{c.fullname} {c.shortname} {c.id}".casefold()]
        if badge:
            courses = [c for c in courses if any(a.badge == badge for a in self._cached_activities(c.id))]
        courses.sort(key=lambda c: (c.category_name.casefold(), c.fullname.casefold(), c.id))
        page = courses[offset : offset + limit]
        refreshed = iso(self._state.refreshed_at)
        return {"courses": [asdict(c) for c in page], "total": len(courses), "refreshed_at": refreshed}

    def _cached_activities(self, course_id: int) -> list[ActivityEntry]:
        cached = self._activities.get(course_id)
        return cached.activities if cached else []

    async def show(self, course_id: int) -> dict[str, Any]:
        """One course with its activities and their badges (fetched and inspected if not cached)."""
        await self._ready()
        course = self._state.courses.get(course_id)
        if course is None:
            raise OverviewNotFound(f"no course with id {course_id} (or the service user cannot see it)")
        cached = await self._course_activities(course_id, inspect=True)
        await self._attach_archives(cached.activities)
        return {
            "course": asdict(course),
            "activities": [asdict(a) for a in cached.activities],
            "refreshed_at": iso(cached.fetched_at),
            "error": cached.error,
        }

    async def find_activity(self, course_id: int, cmid: int) -> FoundActivity:
        """The driver for an activity (for `jobs.create` without an explicit driver)."""
        cached = await self._course_activities(course_id, inspect=False)
        activity = next((a for a in cached.activities if a.cmid == cmid), None)
        if activity is None:
            raise OverviewNotFound(f"course {course_id} has no activity with cmid {cmid} visible to the service user")
        if activity.driver is None:
            raise UnsupportedActivity(
                f"activity {cmid} is a {activity.modname}; no installed driver archives that type "
                f"(installed: {', '.join(sorted(self._driver_names.values())) or 'none'})"
            )
        return FoundActivity(activity.driver, cached.course_name, activity.name)

    async def course_place(self, course_id: int) -> CoursePlace:
        """A course's category and the category's path (for category presets): from the overview, or read from
        Moodle when the course or its category is newer than the last refresh."""
        await self._ready()
        course = self._state.courses.get(course_id)
        if course is not None:
            category_id = course.category_id
        else:
            found = (await self.api.courses_by_field("id", course_id)).courses
            if not found:
                raise OverviewNotFound(f"no course with id {course_id} (or the service user cannot see it)")
            category_id = found[0].categoryid
        if not category_id:
            return CoursePlace(course_id, None)
        category = self._state.categories.get(category_id)
        path = category.path if category is not None else None
        if path is None:
            path = next((c.path for c in await self.api.categories() if c.id == category_id), None)
        if not path:
            raise OverviewNotFound(
                f"course {course_id} is in category {category_id}, which the service user cannot see "
                "(moodle/category:viewhiddencategories)"
            )
        return CoursePlace(course_id, category_id, tuple(int(part) for part in path.split("/") if part))

    # -- activities ---------------------------------------------------------------------------------------

    async def _course_activities(self, course_id: int, *, inspect: bool) -> _CourseActivities:
        async with self._course_locks.setdefault(course_id, asyncio.Lock()):
            return await self._load_activities(course_id, inspect=inspect)

    async def _load_activities(self, course_id: int, *, inspect: bool) -> _CourseActivities:
        """The cached activities, fetched (and inspected) if missing; the caller holds the course's lock."""
        cached = self._activities.get(course_id)
        if cached is None:
            cached = await self._fetch_contents(course_id)
            self._activities[course_id] = cached
        if inspect and not cached.inspected:
            await self._inspect(course_id, cached)
        return cached

    async def _fetch_contents(self, course_id: int) -> _CourseActivities:
        sections = await self.api.course_contents(course_id)
        course = self._state.courses.get(course_id)
        activities = []
        for section in sections:
            for module in section.modules:
                driver = self._driver_names.get(module.modname)
                if module.modname == QUESTION_BANK and driver is None:
                    continue  # where Moodle 5.0+ keeps a course's questions: not an activity to archive
                activities.append(
                    ActivityEntry(
                        cmid=module.id,
                        modname=module.modname,
                        name=module.name,
                        driver=driver,
                        supported=driver is not None,
                        badge="never" if driver else "unsupported",
                        reason=None if driver else f"no archiving driver for {module.modname}",
                        closes_at=_closes_at(module.dates),
                    )
                )
        if course is not None:
            course.activity_count = len(activities)
        return _CourseActivities(activities, time.time(), course.fullname if course else "")

    async def _inspect(self, course_id: int, cached: _CourseActivities) -> None:
        by_driver: dict[str, list[ActivityEntry]] = {}
        for activity in cached.activities:
            if activity.driver is not None:
                by_driver.setdefault(activity.driver, []).append(activity)
        errors = []
        for name, activities in by_driver.items():
            driver = self.drivers[name]
            try:
                statuses = {s.cmid: s for s in await driver.inspect(course_id, [a.cmid for a in activities])}
            except ArchivedError as exc:
                errors.append(f"{name}: {exc}")
                for activity in activities:
                    activity.reason = f"could not be inspected: {exc}"
                continue
            for activity in activities:
                status = statuses.get(activity.cmid)
                if status is None:
                    continue
                activity.archivable = status.archivable
                activity.reason = status.reason
                activity.fingerprint = status.fingerprint
        cached.inspected = True
        cached.error = "; ".join(errors) or None

    async def _attach_archives(self, activities: list[ActivityEntry]) -> None:
        store = self.store
        for activity in activities:
            if not activity.supported:
                activity.badge = "unsupported"
                continue
            last = await store.last_completed_job(activity.cmid)
            if last is None:
                activity.last_archive = None
                activity.badge = "not_ready" if activity.reason and not activity.archivable else "never"
                continue
            activity.last_archive = {
                "job_id": last.id,
                "at": iso(last.finished_at),
                "state": last.state.value,
                "fingerprint": last.fingerprint,
            }
            if activity.fingerprint and last.fingerprint and activity.fingerprint != last.fingerprint:
                activity.badge = "changed"
            else:
                activity.badge = "archived"


CLOSING_DATES = ("timeclose", "duedate")  # a quiz's close, an assignment's due date


def _closes_at(dates: list[ModuleDate]) -> float | None:
    """When the activity closes, from the dates Moodle shows for it (None if it has no such date)."""
    return next((float(d.timestamp) for d in dates if d.dataid in CLOSING_DATES and d.timestamp), None)


def _event(course_count: int) -> Event:
    return Event("courses.refreshed", {"courses": course_count})
