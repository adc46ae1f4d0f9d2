"""The `courses.*` methods: the daemon's overview of Moodle's categories, courses and archivable activities.

They exist only when the daemon has a `[moodle]` section (otherwise: method not found).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime

Badge = Literal["archived", "changed", "never", "unsupported", "not_ready"]
BADGES: tuple[Badge, ...] = ("archived", "changed", "never", "unsupported", "not_ready")


class Category(Answer):
    """A Moodle course category."""

    id: int
    name: str
    parent: int | None = None
    path: str = Field(default="", description='ids from the top, e.g. "/1/11"')
    depth: int = 1
    course_count: int = 0


class CourseTree(Answer):
    """Categories in display order (each after its parent), with how many courses each holds."""

    categories: list[Category]
    refreshed_at: UtcTime | None = None


class ListCoursesParams(Params):
    """Which courses: by category (subcategories included), text and activity badge, a page at a time."""

    category_id: int | None = None
    search: str | None = Field(default=None, description="text in the course name, short name or id")
    badge: Badge | None = Field(
        default=None, description="only courses with an activity of this badge (among those read)"
    )
    limit: int = Field(default=100, ge=1, le=5000)
    offset: int = Field(default=0, ge=0)


class Course(Answer):
    """A course from `courses.list`."""

    id: int
    shortname: str
    fullname: str = ""
    category_id: int | None = None
    category_name: str = ""
    visible: bool = True
    activity_count: int | None = Field(
        default=None, description="null until the daemon has read the course's activities"
    )


class CoursePage(Answer):
    """A page of courses (by category, then name) and how many match in all."""

    courses: list[Course]
    total: int
    refreshed_at: UtcTime | None = None


class CourseRefParams(Params):
    """Which course."""

    course_id: int


class LastArchive(Answer):
    """The newest completed archive job of an activity."""

    job_id: str
    at: UtcTime | None = None
    state: str = ""
    fingerprint: str | None = None


class Activity(Answer):
    """An activity of a course with its archive badge."""

    cmid: int
    modname: str
    name: str
    driver: str | None = Field(default=None, description="the activity driver that archives it (null: none installed)")
    supported: bool = False
    archivable: bool = False
    reason: str | None = Field(default=None, description="why it is not supported or not archivable now")
    badge: Badge = "never"
    fingerprint: str | None = None
    last_archive: LastArchive | None = None


class CourseView(Answer):
    """One course and its activities, as the daemon last read them from Moodle."""

    course: Course
    activities: list[Activity]
    refreshed_at: UtcTime | None = None
    error: str | None = Field(default=None, description="what went wrong while the daemon inspected the activities")


class RefreshParams(Params):
    """Everything, or one course's activities; `force` (operators only) skips the cooldown."""

    course_id: int | None = None
    force: bool = False


class RefreshResult(Answer):
    """Whether Moodle was asked now, or the data fetched earlier (within the cooldown) stays."""

    refreshed: bool
    course_id: int | None = None
    at: float | None = Field(default=None, description="Unix time the data was fetched")
    age_seconds: int = 0
    message: str = ""
