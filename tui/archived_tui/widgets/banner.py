"""The banner that says the daemon is gone (or incompatible) and that the TUI is reconnecting."""

from __future__ import annotations

from textual.content import Content

from archived_tui.link import ConnectionState, DaemonLink
from archived_tui.safe_text import visible
from archived_tui.widgets.live_text import LiveText


class ConnectionBanner(LiveText):
    """Hidden while connected; otherwise what happened, what the TUI does about it, and what the user can do."""

    def __init__(self, link: DaemonLink) -> None:
        super().__init__()
        self._link = link

    def on_mount(self) -> None:
        """Show the current state and follow changes."""
        self._link.connection.subscribe(self, self.show_state)
        self.show_state(self._link.state)

    def show_state(self, state: ConnectionState) -> None:
        """Render one connection state."""
        self.set_class(not state.connected, "-visible")
        self.set_class(state.status == "incompatible", "-incompatible")
        self.set_class(state.status == "connecting", "-connecting")
        if state.connected:
            self.update("")
        elif state.status == "connecting":
            self.update(Content.from_markup("Connecting to the daemon at $socket …", socket=visible(str(state.socket))))
        elif state.status == "incompatible":
            self.update(
                Content.from_markup(
                    "[b]Incompatible daemon.[/b] $message\nThe TUI checks again every $retry s.",
                    message=visible(state.message, newlines=True),
                    retry=f"{state.retry_in or 0:.0f}",
                )
            )
        else:
            retry = f"next attempt in {state.retry_in:g} s" if state.retry_in is not None else "retrying"
            self.update(
                Content.from_markup(
                    "[b]Daemon unreachable — reconnecting[/b] (attempt $attempt, $retry; "
                    "[@click=app.reconnect]ctrl+r: now[/]). Data shown may be stale.\n[dim]$message[/dim]",
                    attempt=str(max(1, state.attempt)),
                    retry=retry,
                    message=visible(state.message, newlines=True),
                )
            )
