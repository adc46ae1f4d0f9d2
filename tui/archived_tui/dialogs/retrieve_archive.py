"""The retrieve dialog: where to write a job's archive (a new file, never over one) and which target to take it from
(`archived_tui.screens.archive_retrieval` then has the daemon fetch and verify it, and writes the verified bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select

from archived.protocol.archive_download import DownloadRefused, check_destination, destination
from archived.protocol.jobs import Artifact
from archived_tui.safe_text import visible
from archived_tui.widgets.safe_static import SafeStatic

ANY_TARGET = "any"


@dataclass(frozen=True)
class RetrieveRequest:
    """Write the archive to `path` (a new file, or into a folder), taken from `target` (None: any that holds it)."""

    path: Path
    target: str | None


class RetrieveArchiveDialog(ModalScreen[RetrieveRequest | None]):
    """Asks for the destination and the target; refuses a path that exists or cannot be written here."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Cancel", id="dialog.cancel")]

    def __init__(self, artifact: Artifact, *, folder: Path) -> None:
        super().__init__(classes="dialog-screen")
        self._artifact = artifact
        self._folder = folder

    def compose(self) -> ComposeResult:
        """What is retrieved, the destination, the target, buttons."""
        artifact = self._artifact
        targets = [loc.target for loc in artifact.locations if loc.deleted_at is None]
        with Vertical(classes="dialog"):
            yield Label("Retrieve archive", classes="dialog-title")
            body = Content.from_markup(
                "[b]$name[/b]\nThe daemon fetches it from a target that holds it and checks it (size, SHA-256 and "
                "every check of archived verify); the verified bytes are written here, to a new file.",
                name=visible(artifact.name),
            )
            yield SafeStatic(body, classes="dialog-body")
            yield Input(str(self._folder / artifact.name), id="retrieve-path")
            options = [("any target holding it (local first)", ANY_TARGET), *((visible(t), t) for t in targets)]
            yield Select(options, value=ANY_TARGET, allow_blank=False, id="retrieve-target")
            yield SafeStatic("", id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retrieve", variant="primary", id="retrieve", compact=True)
                yield Button("Cancel", id="close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """The path is what one usually changes."""
        self.query_one("#retrieve-path", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#retrieve")
    def _retrieve(self) -> None:
        path = Path(self.query_one("#retrieve-path", Input).value.strip()).expanduser()
        try:
            check_destination(destination(path, self._artifact.name))
        except DownloadRefused as exc:
            self.query_one("#dialog-error", SafeStatic).update(Content.styled(str(exc), "red"))
            return
        target = self.query_one("#retrieve-target", Select).value
        self.dismiss(RetrieveRequest(path, None if target == ANY_TARGET else str(target)))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close without retrieving."""
        self.dismiss(None)
