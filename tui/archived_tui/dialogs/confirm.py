"""A yes/no question whose answer is typed: `ModalScreen[bool]`."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

from archived_tui.safe_text import plain_content
from archived_tui.widgets.safe_static import SafeStatic


class ConfirmDialog(ModalScreen[bool]):
    """Asks before something that cannot be undone; the safe answer has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Keep", id="dialog.cancel"),
        Binding("y", "answer(True)", "Yes", id="dialog.confirm"),
    ]

    def __init__(
        self, title: str, body: str | Content, *, confirm: str, keep: str = "Keep", danger: bool = True
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._confirm = confirm
        self._keep = keep
        self._danger = danger

    def compose(self) -> ComposeResult:
        """Title, explanation, two buttons."""
        with Vertical(classes="dialog"):
            yield Label(plain_content(self._title), classes="dialog-title")
            yield SafeStatic(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="error" if self._danger else "primary", id="confirm", compact=True)
                yield Button(self._keep, id="keep", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """The safe choice is focused, so a stray Enter keeps things as they are."""
        self.query_one("#keep" if self._danger else "#confirm", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        """Close with an answer."""
        self.dismiss(answer)
