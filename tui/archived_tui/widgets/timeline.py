"""A job's stage timeline: every transition with its time and reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import tzinfo

from rich.text import Text

from archived.protocol.jobs import TimelineEntry
from archived_tui.format import local_time, short_state_text
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec, FittedTable

# The reason says most and gets the rest: the time without its year, the transition in short state names.
COLUMNS = (
    ColumnSpec("at", "At", 14),
    ColumnSpec("transition", "Transition", 24),
    ColumnSpec("reason", "Reason"),
)


class Timeline(FittedTable[TimelineEntry]):
    """Transitions in time order: when, from → to, why."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Always the same three columns."""
        return COLUMNS

    def show(self, transitions: Iterable[TimelineEntry]) -> None:
        """Replace the rows; the cursor goes to the newest."""
        self.replace_items([(str(i), t) for i, t in enumerate(transitions)])
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def cells(self, t: TimelineEntry) -> list[object]:
        """One transition's row."""
        change = Text.assemble(short_state_text(t.from_state), (" → ", "dim"), short_state_text(t.to_state))
        return [local_time(t.at, self._tz, seconds=True)[5:], change, plain(t.reason, "dim", one_line=True)]
