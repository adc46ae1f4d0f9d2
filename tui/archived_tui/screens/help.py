"""The help screen: every key of the current screen and the global ones, with their ids for remapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from archived_tui.safe_text import literal
from archived_tui.widgets.safe_static import SafeStatic


@dataclass(frozen=True)
class HelpRow:
    """One key as the help screen lists it."""

    section: str
    key: str
    description: str
    binding_id: str | None


class HelpScreen(ModalScreen[None]):
    """Keys, their ids, where to remap them, and the command palette."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.cancel"),
        Binding("question_mark", "close", "Close", show=False, key_display="?"),
    ]

    def __init__(self, rows: Sequence[HelpRow], *, settings_path: Path | None) -> None:
        super().__init__(classes="dialog-screen")
        self._rows = list(rows)
        self._settings_path = settings_path

    def compose(self) -> ComposeResult:
        """The key table and the remapping note."""
        with Vertical(classes="dialog", id="help"):
            yield Label("Keys", classes="dialog-title")
            yield DataTable[Any](id="help-keys", cursor_type="row", zebra_stripes=True)
            path = str(self._settings_path) if self._settings_path else "~/.config/archived/tui.toml"
            yield SafeStatic(
                Content.from_markup(
                    "[b]ctrl+p[/b] opens the command palette (context commands such as [i]job: retry[/i]). "
                    "The mouse works too: click tabs, rows, buttons and footer keys.\n"
                    'Remap a key in [b]$path[/b]:  [dim]\\[keys][/dim]  "job.cancel" = "k"  '
                    "(`archived tui --list-keys` lists every id).",
                    path=path,
                ),
                id="help-note",
            )
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one("#help-keys", DataTable)
        table.add_column("Key", key="key", width=10)
        table.add_column("Does", key="does")
        table.add_column(Text("Id (for [keys])"), key="id")
        section = None
        for row in self._rows:
            if row.section != section:
                section = row.section
                table.add_row("", literal(Text(section, style="bold cyan")), "")
            # Keys and ids may come from the user's settings file.
            table.add_row(
                literal(Text(row.key, style="bold")), literal(row.description),
                literal(Text(row.binding_id or "", style="dim")),
            )  # fmt: skip
        table.focus()

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
