"""Key bindings as data: the global ones, and the catalogue of every binding id a user may remap.

Every binding has an id (`area.action`); the same id on several screens means the same action (e.g.
`job.retry` on the jobs table and on the job detail), so one remap changes it everywhere. Remaps come from
the `[keys]` table of the TUI settings file (see `archived_tui.settings_file`) and are applied with
Textual's keymap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType

from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.dialogs.delete_job import DeleteJobDialog
from archived_tui.dialogs.new_job import NewJobDialog
from archived_tui.schedules_screen import SchedulesScreen
from archived_tui.screens.connectors import ConnectorsScreen
from archived_tui.screens.courses import CoursesScreen
from archived_tui.screens.dashboard import DashboardScreen
from archived_tui.screens.help import HelpScreen
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.screens.render_hosts import RenderHostsScreen
from archived_tui.screens.storage import StorageScreen

GLOBAL_BINDINGS: list[BindingType] = [
    Binding("1", "switch_mode('dashboard')", "Dashboard", id="app.dashboard", show=False),
    Binding("2", "switch_mode('courses')", "Courses", id="app.courses", show=False),
    Binding("3", "switch_mode('jobs')", "Jobs", id="app.jobs", show=False),
    Binding("4", "switch_mode('storage')", "Storage", id="app.storage", show=False),
    Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
    Binding("F", "show_failures", "Failed jobs", id="app.failures", show=False),
    Binding("ctrl+r", "refresh", "Refresh / reconnect", id="app.refresh", show=False),
    Binding("q", "quit", "Quit", id="app.quit"),
]


@dataclass(frozen=True)
class BindingInfo:
    """One remappable binding: its id, default key(s), what it does and where."""

    binding_id: str
    key: str
    description: str
    where: str


def binding_catalogue() -> list[BindingInfo]:
    """Every binding id of the TUI, in screen order (first occurrence of each id)."""
    sources: list[tuple[str, Iterable[BindingType]]] = [
        ("everywhere", GLOBAL_BINDINGS),
        ("dashboard", DashboardScreen.BINDINGS),
        ("courses", CoursesScreen.BINDINGS),
        ("jobs", JobsScreen.BINDINGS),
        ("job detail", JobDetailScreen.BINDINGS),
        ("storage", StorageScreen.BINDINGS),
        ("schedules", SchedulesScreen.BINDINGS),
        ("connectors", ConnectorsScreen.BINDINGS),
        ("render hosts", RenderHostsScreen.BINDINGS),
        ("dialogs", [*ConfirmDialog.BINDINGS, *DeleteJobDialog.BINDINGS, *NewJobDialog.BINDINGS,
                     *HelpScreen.BINDINGS]),
    ]  # fmt: skip
    seen: dict[str, BindingInfo] = {}
    for where, bindings in sources:
        for binding in bindings:
            if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                seen[binding.id] = BindingInfo(binding.id, binding.key, binding.description,
                                               where)  # fmt: skip
    return list(seen.values())


def known_binding_ids() -> set[str]:
    """The ids a `[keys]` table may name."""
    return {info.binding_id for info in binding_catalogue()}
