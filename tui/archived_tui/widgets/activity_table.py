"""The activities of one course with their archive badges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import tzinfo

from rich.text import Text

from archived.protocol.courses import Activity
from archived_tui.format import local_time
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec, FittedTable

BADGE_LABELS = {
    "archived": ("✔ archived", "green"),
    "changed": ("● changed since", "yellow"),
    "never": ("○ never archived", "cyan"),
    "unsupported": ("– unsupported", "dim"),
    "not_ready": ("… not ready", "dim yellow"),
}
COLUMNS = (
    ColumnSpec("cmid", "cmid", 6),
    ColumnSpec("type", "Type", 7),
    ColumnSpec("name", "Activity", weight=2),
    ColumnSpec("badge", "Archive", weight=3),
)
NARROW = tuple(c for c in COLUMNS if c.key != "type")  # below 70 cells the type goes (the name says it)


def badge_text(activity: Activity, tz: tzinfo | None) -> Text:
    """'✔ archived on 2026-11-28' / '● changed since 2026-11-28' / '– unsupported: no driver for forum'."""
    label, style = BADGE_LABELS.get(activity.badge, (activity.badge, ""))
    text = Text(label, style=style, no_wrap=True, overflow="ellipsis")
    if activity.badge in ("archived", "changed") and activity.last_archive and activity.last_archive.at:
        if activity.badge == "archived":
            text.append(" on")
        text.append(" " + local_time(activity.last_archive.at, tz)[:10])
    if activity.reason and activity.badge in ("unsupported", "not_ready"):
        text.append_text(plain(f": {activity.reason}", "dim"))
    return text


class ActivityTable(FittedTable[Activity]):
    """cmid, type, name, badge; keyed by cmid; filtered by badge on the client."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """cmid, type, name, badge; narrow tables leave out the type."""
        return COLUMNS if width >= 70 else NARROW

    def show_activities(self, activities: Iterable[Activity], badge: str | None) -> None:
        """Replace the rows with the activities that carry `badge` (None: all)."""
        self.replace_items([(str(a.cmid), a) for a in activities if badge is None or a.badge == badge])

    def cells(self, activity: Activity) -> list[object]:
        """One activity's row (activities that cannot be archived are dimmed)."""
        style = "" if activity.archivable else "dim"
        values = {
            "cmid": Text(str(activity.cmid), style="dim"),
            "type": plain(activity.modname, style),
            "name": plain(activity.name, style, one_line=True),
            "badge": badge_text(activity, self._tz),
        }
        return [values[c.key] for c in self.fitted]

    @property
    def selected(self) -> Activity | None:
        """The activity under the cursor."""
        return self.selected_item
