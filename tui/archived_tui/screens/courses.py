"""Courses: category tree → courses → activities with their archive badges; archive an activity from here.

The course overview needs a Moodle: without one (or with a daemon that predates `courses.*`) the screen
says so instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import DataTable, Input

from archived.protocol.courses import BADGES, Course, CourseView
from archived.protocol.errors import ErrorCode, RpcError
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.dialogs.new_job import ActivityTarget
from archived_tui.format import local_time
from archived_tui.safe_text import plain_content
from archived_tui.screens import job_actions
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.activity_table import BADGE_LABELS, ActivityTable
from archived_tui.widgets.category_tree import CategoryTree
from archived_tui.widgets.course_table import CourseTable
from archived_tui.widgets.live_text import LiveText
from archived_tui.widgets.paged_table import PagedTable

UNAVAILABLE = "course overview not available: no Moodle configured"
SEARCH_DELAY = 0.3  # seconds of no typing before the search runs
SHOW_DELAY = 0.15  # seconds the cursor rests on a course before its activities load


class CoursesScreen(DaemonScreen):
    """Three panes: categories, courses, the highlighted course's activities."""

    NAV_ID = "courses"
    AUTO_FOCUS = "#courses-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="courses.search", key_display="/"),
        Binding("b", "cycle_badge", "Badge filter", id="courses.badge_filter"),
        Binding("a", "archive", "Archive activity", id="courses.archive"),
        Binding("u", "refresh_moodle", "Update from Moodle", id="courses.refresh"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.category_id: int | None = None
        self.category_name = "All categories"
        self.badge: str | None = None
        self.search = ""
        self.available: bool | None = None
        self.course_view: CourseView | None = None
        self._search_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        """Search line; tree | (courses / activities); the unavailable note."""
        with Horizontal(id="courses-filter"):
            yield Input(placeholder="search courses (/)", id="courses-search", compact=True)
            yield LiveText(id="courses-status", classes="status-line")
        yield LiveText(UNAVAILABLE, id="courses-unavailable")
        with Horizontal(id="courses-panes"):
            yield CategoryTree(id="courses-tree")
            with Vertical(id="courses-right"):
                yield CourseTable(id="courses-table")
                yield ActivityTable(tz=self.ctx.tz, id="activities-table")

    def on_mount(self) -> None:
        """Pane titles."""
        self.query_one("#courses-tree").border_title = "Categories"
        self.query_one("#courses-table").border_title = "Courses"
        self.query_one("#activities-table").border_title = "Activities"

    async def reload(self) -> None:
        """The category tree and the first page of courses (or the note that there is no overview)."""
        self.course_view = None
        try:
            tree = await self.link.api.course_tree()
        except RpcError as exc:
            # No Moodle configured (the methods do not exist), or Moodle failed: say which, keep the screen calm.
            self._set_available(False, UNAVAILABLE if exc.code == ErrorCode.METHOD_NOT_FOUND else
                                f"course overview not available: {exc.message}")  # fmt: skip
            return
        self._set_available(True)
        self.query_one(CategoryTree).show(tree.categories)
        await self._load_courses()

    def _set_available(self, available: bool, why: str = "") -> None:
        self.available = available
        self.set_class(not available, "-unavailable")
        if why:
            self.query_one("#courses-unavailable", LiveText).update(why)
        self._update_status()

    async def _load_courses(self, *, offset: int = 0) -> None:
        table = self.query_one(CourseTable)
        page = await self.link.api.list_courses(
            category_id=self.category_id, search=self.search or None, badge=self.badge,
            limit=self.ctx.page_size, offset=offset,
        )  # fmt: skip
        table.show_courses(page.courses, page.total, append=offset > 0)
        table.border_title = plain_content(f"Courses · {self.category_name} · {page.total:,}")
        self._update_status()
        if offset == 0:
            self._course_highlighted()

    def _update_status(self) -> None:
        status = self.query_one("#courses-status", LiveText)
        label = "all" if self.badge is None else BADGE_LABELS[self.badge][0]
        status.update(
            Content.from_markup("[@click=screen.cycle_badge]Badge: [b]$label[/b] [dim](b: next)[/dim][/]", label=label)
        )

    # -- selection ------------------------------------------------------------------------------------------

    @on(CategoryTree.Chosen)
    def _category_chosen(self, event: CategoryTree.Chosen) -> None:
        self.category_id, self.category_name = event.category_id, event.name
        self.background(self._load_courses, group="courses")
        self.query_one(CourseTable).focus()

    @on(Input.Changed, "#courses-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._run_search)

    @on(Input.Submitted, "#courses-search")
    def _search_submitted(self) -> None:
        self.query_one(CourseTable).focus()

    def on_key(self, event: events.Key) -> None:
        """Escape leaves the search field (keys like 1–4 work again)."""
        if event.key == "escape" and isinstance(self.focused, Input):
            event.stop()
            self.query_one(CourseTable).focus()

    def _run_search(self) -> None:
        self.background(self._load_courses, group="courses")

    @on(PagedTable.NeedMore, "#courses-table")
    def _more(self, event: PagedTable.NeedMore) -> None:
        self.background(partial(self._load_more, event.offset), group="more")

    async def _load_more(self, offset: int) -> None:
        try:
            await self._load_courses(offset=offset)
        finally:
            self.query_one(CourseTable).loading_more = False

    @on(DataTable.RowHighlighted, "#courses-table")
    def _course_highlighted(self) -> None:
        course = self.query_one(CourseTable).selected
        if course is None:
            self.query_one(ActivityTable).show_activities([], None)
            return
        if self.course_view is not None and self.course_view.course.id == course.id:
            return
        self.background(partial(self._show_course, course), group="course")

    @on(DataTable.RowSelected, "#courses-table")
    def _course_selected(self) -> None:
        self.query_one(ActivityTable).focus()

    async def _show_course(self, course: Course, *, delay: float = SHOW_DELAY) -> None:
        await asyncio.sleep(delay)  # moving the cursor quickly over many courses loads only the last
        view = await self.link.api.show_course(course.id)
        self.course_view = view
        self._show_activities()

    def _show_activities(self) -> None:
        table = self.query_one(ActivityTable)
        view = self.course_view
        if view is None:
            return
        table.show_activities(view.activities, self.badge)
        refreshed = local_time(view.refreshed_at, self.ctx.tz) if view.refreshed_at else "never"
        # Border titles are read as markup unless given as content; these quote Moodle.
        table.border_title = plain_content(f"Activities · {view.course.shortname} · read from Moodle {refreshed}")
        table.border_subtitle = plain_content(f"⚠ {view.error}") if view.error else ""

    @on(DataTable.RowSelected, "#activities-table")
    def _activity_selected(self) -> None:
        self.action_archive()

    def apply_events(self, batch: EventBatch) -> None:
        """A finished job of the shown course changes its badges; a refreshed overview changes everything."""
        if batch.courses_refreshed and self.available:
            self.request_reload()
            return
        view = self.course_view
        if view is None:
            return
        cmids = {a.cmid for a in view.activities}
        if any(job.cmid in cmids and job.course_id == view.course.id for _, job in batch.finished):
            self.background(partial(self._show_course, view.course, delay=0), group="course")

    # -- actions ------------------------------------------------------------------------------------------

    def action_search(self) -> None:
        """Focus the search field."""
        self.query_one("#courses-search", Input).focus()

    def action_set_badge(self, badge: str) -> None:
        """Show only courses and activities with one badge ('' for all)."""
        self.badge = badge or None
        self._update_status()
        self._show_activities()
        if self.available:
            self.background(self._load_courses, group="courses")

    def action_cycle_badge(self) -> None:
        """all → archived → changed → never → unsupported → not ready → all."""
        order: list[str | None] = [None, *BADGES]
        self.action_set_badge(order[(order.index(self.badge) + 1) % len(order)] or "")

    def action_archive(self) -> None:
        """Start an archive job for the highlighted activity (shows its settings first)."""
        activity = self.query_one(ActivityTable).selected
        view = self.course_view
        if activity is None or view is None:
            self.notify("Choose an activity first (tab to the activities).", severity="warning", timeout=4)
            return
        if not activity.archivable or activity.driver is None:
            why = activity.reason or ("no driver for " + activity.modname if activity.driver is None else "")
            self.notify(f"{activity.name} cannot be archived: {why}", severity="warning", timeout=6)
            return
        target = ActivityTarget(
            course_id=view.course.id,
            course_name=view.course.shortname,
            cmid=activity.cmid,
            name=activity.name,
            driver=activity.driver,
        )
        self.background(partial(job_actions.new_job, self, target), group="action", exclusive=False)

    def action_refresh_moodle(self) -> None:
        """Ask the daemon to read the highlighted course from Moodle again."""
        course = self.query_one(CourseTable).selected
        self.background(partial(self._refresh_moodle, course), group="refresh")

    async def _refresh_moodle(self, course: Course | None) -> None:
        what = course.shortname if course else "every course"
        course_id = course.id if course else None
        if await self.attempt(f"Update {what}", self.link.api.refresh_courses(course_id)) is None:
            return
        self.notify(f"Read {what} from Moodle again.", timeout=3)
        if course is not None:
            await self._show_course(course, delay=0)

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Archive the highlighted activity, badge filters, update from Moodle."""
        if not self.available:
            return
        activity = self.query_one(ActivityTable).selected
        if activity is not None and activity.archivable:
            yield SystemCommand(f"course: archive activity {activity.name}…", "Start an archive job",
                                self.action_archive)  # fmt: skip
        for badge in (None, *BADGES):
            label = "all" if badge is None else BADGE_LABELS[badge][0].split(" ", 1)[1]
            yield SystemCommand(
                f"courses: show {label}", "Filter courses and activities by badge",
                lambda b=badge or "": self.action_set_badge(b),
            )  # fmt: skip
        yield SystemCommand("courses: search…", "Search courses by name", self.action_search)
        yield SystemCommand("courses: update from Moodle", "Read the highlighted course again",
                            self.action_refresh_moodle)  # fmt: skip
