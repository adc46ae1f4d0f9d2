"""Deleting a job: says exactly which stored copies go, what stays, and asks about retention."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Label

from archived.protocol.jobs import JobView
from archived_tui.format import human_bytes, local_time, short_id
from archived_tui.safe_text import visible
from archived_tui.widgets.safe_static import SafeStatic


@dataclass(frozen=True)
class DeleteDecision:
    """The operator confirmed; `force` deletes archives still inside their retention period."""

    force: bool


class DeleteJobDialog(ModalScreen[DeleteDecision | None]):
    """Lists every stored copy that will be deleted; `force` only appears when retention still holds."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "delete", "Yes, delete", id="dialog.confirm"),
        Binding("escape", "keep", "Keep", id="dialog.cancel"),
    ]

    def __init__(self, view: JobView, *, tz: tzinfo | None, now: float | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self._view = view
        self._tz = tz
        now = time.time() if now is None else now
        self._retained = sorted(
            a.retain_until
            for a in view.artifacts
            if a.retain_until and a.retain_until.timestamp() > now and any(not loc.deleted_at for loc in a.locations)
        )

    def compose(self) -> ComposeResult:
        """Explanation, the copies, the force box, buttons."""
        job = self._view.job
        copies = [
            (artifact, loc) for artifact in self._view.artifacts for loc in artifact.locations if loc.deleted_at is None
        ]
        with Vertical(classes="dialog"):
            yield Label(f"Delete job {short_id(job.id)}?", classes="dialog-title")
            # Not focusable itself: Tab from Keep reaches the force box at once, keys never land in the body.
            with VerticalScroll(classes="dialog-body", can_focus=False):
                yield SafeStatic(
                    Content.from_markup(
                        "$activity in $course, $state.", activity=visible(job.activity_label),
                        course=visible(job.course_label),
                        state=job.state.replace("_", " "),
                    )
                )  # fmt: skip
                if copies:
                    yield SafeStatic(Content.from_markup("[b]This permanently deletes from storage:[/b]"))
                    for artifact, loc in copies:
                        yield SafeStatic(
                            Content.from_markup(
                                "  • [b]$target[/b]: $location ($size, SHA-256 $sha…)",
                                target=visible(loc.target), location=visible(loc.location),
                                size=human_bytes(loc.size), sha=visible(artifact.sha256[:12]),
                            ),
                            classes="delete-copy",
                        )  # fmt: skip
                else:
                    yield SafeStatic("Nothing is stored for this job, so nothing is deleted from storage.")
                yield SafeStatic(
                    "The job record, its timeline and its log stay, as evidence of what was archived and deleted."
                )
                if self._retained:
                    until = local_time(self._retained[-1], self._tz)[:10]
                    yield SafeStatic(
                        Content.from_markup("[b $warning]The archive is retained until $until.[/]", until=until)
                    )
                    yield Checkbox(f"Delete it before {until} anyway (force)", id="force", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Delete from storage" if copies else "Delete job", variant="error", id="delete", compact=True
                )
                yield Button("Keep", id="keep", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """Keep is the default."""
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#delete")
    def action_delete(self) -> None:
        """Delete (y or the Delete button); while retention holds, only with the force box ticked."""
        force = bool(self._retained) and self.query_one("#force", Checkbox).value
        if self._retained and not force:
            # Say it here, at the box, rather than let the daemon refuse and name a CLI flag.
            self.query_one("#force", Checkbox).focus()
            self.notify("The archive is still retained: tick “anyway (force)” (Tab, then space) to delete it now.",
                        title="Retained", severity="warning", timeout=8)  # fmt: skip
            return
        self.dismiss(DeleteDecision(force=force))

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        """Close without deleting."""
        self.dismiss(None)
