"""The attach dialog: which files to add to a job before it is packed (one path a line) and a note saying what they
are (`archived_tui.screens.file_attaching` then sends them over the socket, read as the TUI's own user)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, TextArea

from archived.protocol.jobs import JobSummary
from archived_tui.format import short_id
from archived_tui.safe_text import visible
from archived_tui.widgets.safe_static import SafeStatic


@dataclass(frozen=True)
class AttachRequest:
    """The files to add (readable here, when asked) and the note kept with them in the archive."""

    paths: tuple[Path, ...]
    note: str


class AttachFilesDialog(ModalScreen[AttachRequest | None]):
    """Asks for file paths (relative ones from `folder`) and a note; refuses a path that is not a readable file."""

    DEFAULT_CSS = """
    AttachFilesDialog #attach-paths { height: 5; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "attach", "Attach", id="dialog.submit"),
    ]

    def __init__(self, job: JobSummary, *, folder: Path) -> None:
        super().__init__(classes="dialog-screen")
        self._job = job
        self._folder = folder

    def compose(self) -> ComposeResult:
        """What the files go into, the paths, the note, buttons."""
        with Vertical(classes="dialog"):
            yield Label(f"Attach files to job {short_id(self._job.id)}", classes="dialog-title")
            body = Content.from_markup(
                "[b]$activity[/b]\nFiles such as a seating plan or a signed protocol, one path a line (relative to "
                "$folder). They go into the archive under data/operator/, with the note, who added them and when.",
                activity=visible(self._job.activity_label),
                folder=visible(str(self._folder)),
            )
            yield SafeStatic(body, classes="dialog-body")
            yield TextArea(id="attach-paths", soft_wrap=False, show_line_numbers=False)
            yield Input(placeholder="note: what the files are", id="attach-note")
            yield SafeStatic("", id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Attach", variant="primary", id="attach", compact=True)
                yield Button("Cancel", id="close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """The paths come first."""
        self.query_one("#attach-paths", TextArea).focus()

    def paths(self) -> list[Path]:
        """The paths typed, one a line, blank lines left out."""
        lines = self.query_one("#attach-paths", TextArea).text.splitlines()
        return [self._folder / Path(line.strip()).expanduser() for line in lines if line.strip()]

    @on(Input.Submitted, "#attach-note")
    @on(Button.Pressed, "#attach")
    def action_attach(self) -> None:
        """Check the paths here (the TUI reads the files), then hand them over."""
        paths = self.paths()
        problem = "" if paths else "Name at least one file, one path a line."
        for path in paths:
            if not path.is_file() or not os.access(path, os.R_OK):
                problem = f"{visible(str(path))}: not a readable file"
                break
        if problem:
            self.query_one("#dialog-error", SafeStatic).update(Content.styled(problem, "red"))
            return
        note = self.query_one("#attach-note", Input).value.strip()
        self.dismiss(AttachRequest(tuple(paths), note))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close without attaching."""
        self.dismiss(None)
