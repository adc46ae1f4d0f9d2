"""A data table whose columns fit the terminal's width: fixed columns keep their width, flexible ones share
the rest, and narrow terminals may use a smaller set of columns. Rows are keyed items kept in order.

Every cell that goes in is shown literally (a string is not markup, control characters are visible): table
contents are course, activity and target names, log reasons and error codes from outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text, TextType
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from archived_tui.safe_text import safe_cell

T = TypeVar("T")


class RowKeyText(Text):
    """A first cell that knows its row's key, so rows can be put in order without being re-created."""

    row_key: str = ""


def _keyed(cell: object, key: str) -> RowKeyText:
    cell = safe_cell(cell)
    text = RowKeyText()
    if isinstance(cell, Text):
        text = RowKeyText(cell.plain, style=cell.style, justify=cell.justify, overflow=cell.overflow,
                          no_wrap=cell.no_wrap, end=cell.end, spans=list(cell.spans))  # fmt: skip
    else:
        text.append(str(cell))
    text.row_key = key
    return text


@dataclass(frozen=True)
class ColumnSpec:
    """One column: fixed `width`, or 0 to share the remaining width by `weight`."""

    key: str
    label: str
    width: int = 0
    weight: int = 1


def fit(specs: Sequence[ColumnSpec], total: int, padding: int) -> tuple[ColumnSpec, ...]:
    """Give the flexible columns their share of `total` cells (at least 8 each)."""
    fixed = sum(s.width for s in specs) + 2 * padding * len(specs)
    weights = sum(s.weight for s in specs if s.width == 0)
    free = max(0, total - fixed - 1)  # 1: the vertical scrollbar
    fitted = []
    for spec in specs:
        width = spec.width or max(8, free * spec.weight // max(1, weights))
        fitted.append(ColumnSpec(spec.key, spec.label, width))
    return tuple(fitted)


class FittedTable(DataTable[Any], Generic[T]):
    """Subclasses say which columns a width gets and how an item becomes cells."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.items: dict[str, T] = {}
        self.order: list[str] = []
        self.fitted: tuple[ColumnSpec, ...] = ()

    # -- for subclasses -----------------------------------------------------------------------------------

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """The columns for a table this wide."""
        raise NotImplementedError

    def cells(self, item: T) -> list[object]:
        """One row's cells, in the order of `self.fitted`."""
        raise NotImplementedError

    def _row(self, key: str, item: T) -> list[object]:
        cells = self.cells(item)
        return [_keyed(cells[0], key), *cells[1:]]

    def column_width(self, key: str, default: int = 10) -> int:
        """The fitted width of a column."""
        return next((c.width for c in self.fitted if c.key == key), default)

    # -- cells go in only through these two: both make them literal ---------------------------------------

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        """DataTable's `add_row`, with every cell shown literally."""
        return super().add_row(*(safe_cell(c) for c in cells), height=height, key=key, label=label)

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: CellType, *, update_width: bool = False
    ) -> None:
        """DataTable's `update_cell`, with the value shown literally."""
        super().update_cell(row_key, column_key, safe_cell(value), update_width=update_width)

    # -- contents -----------------------------------------------------------------------------------------

    def replace_items(self, items: Sequence[tuple[str, T]]) -> None:
        """Show exactly these items, in this order."""
        self.items = dict(items)
        self.order = [key for key, _ in items]
        self.rebuild()

    def add_item(self, key: str, item: T) -> None:
        """Append an item (or update it in place if shown)."""
        if key in self.items:
            self.update_item(key, item)
            return
        self.items[key] = item
        self.order.append(key)
        if self.fitted:
            self.add_row(*self._row(key, item), key=key)

    def insert_item(self, index: int, key: str, item: T) -> None:
        """Show a new item at a position: the row is added and the rows re-ordered, none re-created."""
        if key in self.items or index >= len(self.order):
            self.add_item(key, item)
            return
        selected = self.selected_key
        self.items[key] = item
        self.order.insert(index, key)
        if not self.fitted:
            return
        self.add_row(*self._row(key, item), key=key)
        rank = {k: i for i, k in enumerate(self.order)}
        self.sort(self.fitted[0].key, key=lambda cell: rank[cell.row_key])
        if selected is not None:
            self.move_cursor(row=rank[selected], scroll=False)

    def update_item(self, key: str, item: T) -> None:
        """Change a shown item's cells in place (no flicker, the cursor stays)."""
        self.items[key] = item
        if self.fitted and key in self.rows:
            for column, cell in zip(self.fitted, self._row(key, item), strict=True):
                self.update_cell(key, column.key, cell)

    def remove_item(self, key: str) -> None:
        """Drop an item's row."""
        if key not in self.items:
            return
        del self.items[key]
        self.order.remove(key)
        if key in self.rows:
            self.remove_row(key)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.order or not self.is_valid_row_index(self.cursor_row):
            return None
        value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    @property
    def selected_item(self) -> T | None:
        """The item under the cursor."""
        key = self.selected_key
        return self.items.get(key) if key is not None else None

    # -- layout -------------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Headers show before the first rows arrive."""
        self.rebuild()

    def on_resize(self, event: events.Resize) -> None:
        """Refit the columns when the width changes what they get."""
        if fit(self.column_specs(event.size.width), event.size.width, self.cell_padding) != self.fitted:
            self.rebuild()

    def rebuild(self) -> None:
        """Re-create columns and rows, keeping the cursor on the same item and the scroll position."""
        selected = self.selected_key
        scroll_y = self.scroll_y
        width = self.size.width or self.app.size.width
        fitted = fit(self.column_specs(width), width, self.cell_padding)
        self.clear(columns=fitted != self.fitted or not self.columns)
        if not self.columns:
            self.fitted = fitted
            for column in fitted:
                self.add_column(column.label, width=column.width, key=column.key)
        for key in self.order:
            self.add_row(*self._row(key, self.items[key]), key=key)
        if selected is not None and selected in self.items:
            self.move_cursor(row=self.order.index(selected), scroll=False)
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
