"""The top line of every screen: the four screens (clickable) and the connection at a glance."""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from archived_tui.link import ConnectionState, DaemonLink
from archived_tui.safe_text import visible

SCREENS: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "1", "Dashboard"),
    ("courses", "2", "Courses"),
    ("jobs", "3", "Jobs"),
    ("storage", "4", "Storage"),
)


class NavBar(Widget):
    """`archived │ 1 Dashboard 2 Courses 3 Jobs 4 Storage │ ● connected as root (operator)`."""

    def __init__(self, link: DaemonLink, current: str) -> None:
        super().__init__()
        self._link = link
        self._current = current
        self._state = link.state

    def on_mount(self) -> None:
        """Follow the connection (it may have changed since this bar was made)."""
        self._state = self._link.state
        self._link.connection.subscribe(self, self._connection_changed)

    def _connection_changed(self, state: ConnectionState) -> None:
        self._state = state
        self.refresh()

    def render(self) -> RenderResult:
        """Tabs on the left, connection on the right."""
        parts = [Content.from_markup("[b $accent] archived [/]")]
        for mode, key, title in SCREENS:
            label = Content.from_markup(f"[@click=app.switch_mode('{mode}')] [dim]{key}[/dim] $title [/]", title=title)
            parts.append(label.stylize("reverse") if mode == self._current else label)
        left = Content(" ").join(parts)
        right = self._connection_content()
        gap = max(1, self.size.width - left.cell_length - right.cell_length)
        return Content.assemble(left, " " * gap, right)

    def _connection_content(self) -> Content:
        state = self._state
        if state.connected and state.server is not None:
            role = "operator" if state.server.peer.operator else "read-only"
            return Content.from_markup(
                "[$success]●[/] $user ([dim]$role[/dim]) ", user=visible(state.server.peer.user or "?"), role=role
            )
        if state.status == "incompatible":
            return Content.from_markup("[$error]✖ incompatible daemon[/] ")
        if state.status == "connecting":
            return Content.from_markup("[$warning]○ connecting[/] ")
        return Content.from_markup("[$error]○ disconnected[/] ")
