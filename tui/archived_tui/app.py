"""The Textual app: four screens as modes, the link to the daemon, global keys and the command palette.

Kept small on purpose: screens, widgets and dialogs live in their own modules and never import this one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.command import Provider
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.timer import Timer

from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.job_endings import EndingDigest, EndingGroup, Notice
from archived_tui.job_query import JobQuery
from archived_tui.keymap import GLOBAL_BINDINGS, known_binding_ids
from archived_tui.link import RECONNECT_DELAYS, DaemonConnection, DaemonLink
from archived_tui.palette import LiteralSystemCommands
from archived_tui.safe_text import visible
from archived_tui.schedules_screen import SchedulesScreen
from archived_tui.screens.base import DaemonScreen
from archived_tui.screens.connectors import ConnectorsScreen
from archived_tui.screens.courses import CoursesScreen
from archived_tui.screens.dashboard import DashboardScreen
from archived_tui.screens.help import HelpRow, HelpScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.screens.people import PeopleScreen
from archived_tui.screens.render_hosts import RenderHostsScreen
from archived_tui.screens.storage import StorageScreen
from archived_tui.settings_file import TuiSettings

# Toasts on screen at once; the oldest goes when another comes (a burst must not fill the terminal with them).
MAX_TOASTS = 4
# The first notice of a group waits this long for more endings, and is then updated at most this often.
NOTICE_SETTLE_SECONDS = 0.5
NOTICE_UPDATE_SECONDS = 1.0

SCREENS = {
    "dashboard": DashboardScreen,
    "courses": CoursesScreen,
    "jobs": JobsScreen,
    "storage": StorageScreen,
    "people": PeopleScreen,
    "schedules": SchedulesScreen,
    "connectors": ConnectorsScreen,
    "render_hosts": RenderHostsScreen,
}


class ArchivedApp(App[None]):
    """`archived tui`: a client of the daemon's socket and nothing else."""

    CSS_PATH = "app.tcss"
    TITLE = "archived"
    BINDINGS: ClassVar[list[BindingType]] = GLOBAL_BINDINGS
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {LiteralSystemCommands}

    def __init__(
        self,
        socket: Path,
        *,
        settings: TuiSettings | None = None,
        client_factory: Callable[[], DaemonConnection] | None = None,
        clock: Callable[[], float] = time.time,
        page_size: int = 100,
        log_page_size: int = 200,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        flush_interval: float = 0.1,
        notify_finished: bool = True,
        initial_mode: str = "dashboard",
    ) -> None:
        super().__init__()
        self.settings = settings or TuiSettings()
        self.link = DaemonLink(
            self,
            socket,
            client_factory=client_factory,
            flush_interval=flush_interval,
            reconnect_delays=reconnect_delays,
            clock=clock,
        )
        self.ctx = TuiContext(
            link=self.link, clock=clock, tz=self.settings.tz(), page_size=page_size, log_page_size=log_page_size
        )
        self._notify_finished = notify_finished
        self._initial_mode = initial_mode
        self._endings = EndingDigest()
        self._ending_toast: tuple[EndingGroup, Notification] | None = None  # the group's toast on screen
        self._notice_timer: Timer | None = None
        self._notice_shown_at = 0.0
        self.failures_seen: EndingGroup | None = None  # the last group with failures (F shows its jobs)
        self.ending_notices: list[Notice] = []  # what each group's notice said last (one entry per group)
        for mode, screen in SCREENS.items():
            self.add_mode(mode, lambda screen=screen: screen(self.ctx))  # type: ignore[misc]

    def on_mount(self) -> None:
        """Theme and keys from the settings file, the first screen, the connection."""
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.settings.problems.append(f"{self.settings.path}: [tui] theme {self.settings.theme!r} is unknown")
        self.settings.check_keys(known_binding_ids())
        if self.settings.keys:
            self.set_keymap(self.settings.keys)
        for problem in self.settings.problems:
            self.notify(problem, title="TUI settings", severity="warning", timeout=15)
        self.link.events.subscribe(self, self._job_events)
        self.switch_mode(self._initial_mode)
        self.run_worker(self.link.run(), name="daemon-link", group="link")

    def on_unmount(self) -> None:
        """Close the connection."""
        self.link.stop()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (screens' and widgets' `notify` land here) is literal text: never markup, controls visible.

        Toasts quote activity names, the daemon's refusals and settings files; `markup` is ignored. At most
        `MAX_TOASTS` are shown: a new one pushes the oldest out.
        """
        self._toast(Notification(visible(message, newlines=True), visible(title), severity,
                                 self.NOTIFICATION_TIMEOUT if timeout is None else timeout, markup=False))  # fmt: skip

    def _toast(self, notification: Notification, *, replacing: Notification | None = None) -> None:
        if replacing is not None:
            self._unnotify(replacing, refresh=False)
        shown = sorted(self._notifications, key=lambda n: n.raised_at)
        for oldest in shown[: max(0, len(shown) - MAX_TOASTS + 1)]:
            self._unnotify(oldest, refresh=False)
        self.post_message(Notify(notification))

    def _job_events(self, batch: EventBatch) -> None:
        """Job endings go into the digest; its notice is shown (or updated) shortly after."""
        if not self._notify_finished or not batch.finished:
            return
        now = time.monotonic()
        for _, job in batch.finished:
            group, _ = self._endings.add(job, now)
            if group.failed:
                self.failures_seen = group
        if self._notice_timer is None:
            shown = self._ending_toast is not None and self._ending_toast[0] is self._endings.group
            wait = NOTICE_UPDATE_SECONDS - (now - self._notice_shown_at) if shown else NOTICE_SETTLE_SECONDS
            self._notice_timer = self.set_timer(max(0.05, wait), self._show_endings)  # Textual: 0 divides by 0

    def _show_endings(self) -> None:
        self._notice_timer = None
        group = self._endings.group
        if group is None:
            return
        now = time.monotonic()
        notice = group.notice(now)
        previous = self._ending_toast[1] if self._ending_toast and self._ending_toast[0] is group else None
        toast = Notification(visible(notice.message, newlines=True), visible(notice.title), notice.severity,
                             10 if group.failed else 6, markup=False)  # fmt: skip
        self._toast(toast, replacing=previous)
        if previous is None:
            self.ending_notices.append(notice)
            del self.ending_notices[:-MAX_TOASTS]
        else:
            self.ending_notices[-1] = notice
        self._ending_toast = (group, toast)
        self._notice_shown_at = now

    # -- global actions -----------------------------------------------------------------------------------

    def action_help(self) -> None:
        """Keys of this screen, the global ones and the focused widget's, with their ids."""
        if isinstance(self.screen, HelpScreen):
            return
        words = re.findall(r"[A-Z][a-z0-9]*", type(self.screen).__name__.removesuffix("Screen"))
        screen_name = " ".join(words).capitalize() or type(self.screen).__name__  # RenderHosts → "Render hosts"
        sections: dict[str, list[HelpRow]] = {f"This screen ({screen_name})": [], "Everywhere": []}
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            if active.node is self:
                section = "Everywhere"
            elif active.node is self.screen:
                section = f"This screen ({screen_name})"
            else:
                section = f"The focused {type(active.node).__name__}"
            row = HelpRow(section, self.get_key_display(binding), binding.description or binding.action, binding.id)
            sections.setdefault(section, []).append(row)
        # Within a section, the keys that can be remapped (they have ids) first.
        rows = [
            row for section_rows in sections.values() for row in sorted(section_rows, key=lambda r: not r.binding_id)
        ]
        self.push_screen(HelpScreen(rows, settings_path=self.settings.path))

    def action_show_failures(self) -> None:
        """The Jobs screen with the failed jobs, those of the last failure notice's error code first in line."""
        group = self.failures_seen
        codes = sorted(group.error_codes) if group is not None and len(group.error_codes) == 1 else []
        query = JobQuery.failures(error_codes=codes)
        self.switch_mode("jobs")
        screen = self.screen
        if isinstance(screen, JobsScreen):
            screen.apply_query(query)

    def action_refresh(self) -> None:
        """Reload the screen, or reconnect now if the daemon is away."""
        if not self.link.state.connected:
            self.link.reconnect_now()
        elif isinstance(self.screen, DaemonScreen):
            self.screen.request_reload()

    def action_reconnect(self) -> None:
        """Try to reach the daemon now."""
        self.link.reconnect_now()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Context commands of the screen first, then navigation and the app's own."""
        if isinstance(screen, DaemonScreen):
            yield from screen.palette_commands()
        for mode in SCREENS:
            name = mode.replace("_", " ")  # "go: render hosts"
            yield SystemCommand(f"go: {name}", f"Show the {name.capitalize()} screen",
                                lambda m=mode: self.switch_mode(m))  # fmt: skip
        yield SystemCommand("help: keys", "Every key of this screen, with its id for remapping", self.action_help)
        if not self.link.state.connected:
            yield SystemCommand("daemon: reconnect now", "Skip the wait before the next attempt", self.action_reconnect)
        yield from super().get_system_commands(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mode switching only from the main screens (not from dialogs)."""
        return action != "switch_mode" or isinstance(self.screen, DaemonScreen)
