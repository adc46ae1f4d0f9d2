"""Courses of the chosen category, page by page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text

from archived.protocol.courses import Course
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec
from archived_tui.widgets.paged_table import PagedTable

COLUMNS = (
    ColumnSpec("shortname", "Course", weight=2),
    ColumnSpec("fullname", "Name", weight=3),
    ColumnSpec("category", "Category", weight=2),
    ColumnSpec("activities", "Activities", 10),
)


class CourseTable(PagedTable[Course]):
    """Short name, full name, category, number of activities; keyed by course id."""

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Always the same four columns."""
        return COLUMNS

    def show_courses(self, courses: Iterable[Course], total: int, *, append: bool = False) -> None:
        """Replace the rows with a first page, or append a further one."""
        if append:
            for course in courses:
                if str(course.id) not in self.items:
                    self.add_item(str(course.id), course)
        else:
            self.replace_items([(str(c.id), c) for c in courses])
        self.finished_loading(total)

    def cells(self, course: Course) -> list[object]:
        """One course's row (hidden courses are dimmed)."""
        style = "" if course.visible else "dim"
        return [
            plain(course.shortname, f"bold {style}".strip(), one_line=True),
            plain(course.fullname + ("" if course.visible else " (hidden)"), style, one_line=True),
            plain(course.category_name, "dim", one_line=True),
            # The daemon counts a course's activities once it has read them (opened, refreshed or filtered by badge).
            Text("not read", style="dim", justify="right")
            if course.activity_count is None
            else Text(f"{course.activity_count:,}", justify="right"),
        ]

    @property
    def selected(self) -> Course | None:
        """The course under the cursor."""
        return self.selected_item
