"""A fitted table that loads its rows page by page, when the user scrolls or moves the cursor near the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from textual.message import Message

from archived_tui.widgets.fitted_table import FittedTable

T = TypeVar("T")
# Ask for the next page this many rows before the end, so scrolling rarely waits.
LOOKAHEAD_ROWS = 10


class PagedTable(FittedTable[T]):
    """Posts `NeedMore` when the user nears the last loaded row and the daemon has more."""

    @dataclass
    class NeedMore(Message):
        """The table wants the next page (offset: rows already loaded)."""

        table: PagedTable[Any]
        offset: int

        @property
        def control(self) -> PagedTable[Any]:
            """The table that asked."""
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.total: int | None = None
        self.loading_more = False

    @property
    def has_more(self) -> bool:
        """Whether the daemon has rows that are not loaded yet."""
        return self.total is not None and len(self.order) < self.total

    def finished_loading(self, total: int) -> None:
        """A page arrived; ask again if the user is still at the end."""
        self.total = total
        self.loading_more = False
        self.call_after_refresh(self._check_end)

    def loading_failed(self) -> None:
        """A page could not be loaded; the next cursor move or scroll asks again."""
        self.loading_more = False

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        """Moving the cursor near the end asks for more."""
        super().watch_cursor_coordinate(old, new)
        self._check_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling (wheel, page down) near the end asks for more."""
        super().watch_scroll_y(old_value, new_value)
        self._check_end()

    def _check_end(self) -> None:
        if self.loading_more or not self.has_more or not self.is_mounted:
            return
        near_cursor = self.cursor_row >= self.row_count - LOOKAHEAD_ROWS
        near_scroll = self.scroll_y >= self.max_scroll_y - LOOKAHEAD_ROWS
        if near_cursor or near_scroll:
            self.loading_more = True
            self.post_message(self.NeedMore(self, len(self.order)))
