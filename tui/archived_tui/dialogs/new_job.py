"""Starting an archive job: the activity, then the driver's settings with their presets and locks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select

from archived.protocol.drivers import DriverInfo, SettingDescription
from archived.protocol.errors import RpcError
from archived.rpc.client import DaemonUnreachable
from archived_tui.api import JobRequest
from archived_tui.safe_text import literal, visible
from archived_tui.widgets.safe_static import SafeStatic
from archived_tui.widgets.setting_field import InvalidValue, SettingField

Describe = Callable[[str], Awaitable[list[SettingDescription]]]


@dataclass(frozen=True)
class ActivityTarget:
    """The activity chosen on the Courses screen."""

    course_id: int
    course_name: str
    cmid: int
    name: str
    driver: str


class NewJobDialog(ModalScreen[JobRequest | None]):
    """Shows the settings a job would get; the result is the request (only settings the user changed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "submit", "Start job", id="dialog.submit"),
    ]

    def __init__(
        self, *, describe: Describe, drivers: Sequence[DriverInfo], target: ActivityTarget | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._describe = describe
        self._drivers = list(drivers)
        self._target = target

    def compose(self) -> ComposeResult:
        """What to archive, its settings, buttons."""
        target = self._target
        with Vertical(classes="dialog", id="new-job"):
            yield Label("Archive an activity" if target else "New archive job", classes="dialog-title")
            if target is not None:
                yield SafeStatic(
                    Content.from_markup(
                        "[b]$name[/b] (cmid $cmid) in [b]$course[/b] (course $course_id) · driver $driver",
                        name=visible(target.name), cmid=str(target.cmid), course=visible(target.course_name),
                        course_id=str(target.course_id), driver=visible(target.driver),
                    )
                )  # fmt: skip
            else:
                with Horizontal(id="new-job-target"):
                    yield Input(placeholder="course id", type="integer", id="course-id", compact=True)
                    yield Input(placeholder="cmid", type="integer", id="cmid", compact=True)
                    yield Select(
                        [(literal(f"{d.name} ({d.title})" if d.title else d.name), d.name) for d in self._drivers],
                        prompt="driver",
                        allow_blank=not self._drivers,
                        value=self._drivers[0].name if self._drivers else Select.NULL,
                        compact=True,
                        id="driver",
                    )
            yield SafeStatic("Loading the driver's settings …", id="settings-status")
            yield VerticalScroll(id="settings-form")
            yield SafeStatic(id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start archive job", variant="primary", id="submit", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """Load the settings of the driver."""
        driver = self._driver()
        if driver:
            self._load_settings(driver)
        else:
            self.query_one("#settings-status", SafeStatic).update("No activity driver is installed in the daemon.")
        if self._target is None:
            self.query_one("#course-id", Input).focus()
        else:
            self.query_one("#submit", Button).focus()

    def _driver(self) -> str | None:
        if self._target is not None:
            return self._target.driver
        value = self.query_one("#driver", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#driver")
    def _driver_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._load_settings(event.value)

    @work(exclusive=True, group="settings")
    async def _load_settings(self, driver: str) -> None:
        status = self.query_one("#settings-status", SafeStatic)
        form = self.query_one("#settings-form", VerticalScroll)
        await form.remove_children()
        status.update(f"Loading the settings of {driver} …")
        try:
            settings = await self._describe(driver)
        except (RpcError, DaemonUnreachable) as exc:
            status.update(Content.from_markup("[$error]Cannot load the settings: $why[/]", why=visible(str(exc))))
            return
        locked = sum(1 for s in settings if s.locked)
        status.update(
            f"Settings of {driver}: preset values are filled in; "
            + (f"{locked} locked by the preset (greyed out, cannot be changed)." if locked else "none is locked.")
        )
        await form.mount_all(SettingField(s) for s in settings)

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        """Check the input and close with the request."""
        error = self.query_one("#dialog-error", SafeStatic)
        try:
            request = self._request()
        except InvalidValue as exc:
            error.update(Content.from_markup("[$error]$why[/]", why=visible(str(exc))))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without starting anything."""
        self.dismiss(None)

    def _request(self) -> JobRequest:
        driver: str | None
        if self._target is not None:
            # The daemon looks the activity up itself (driver, names, whether it can be archived).
            course_id, cmid, driver = self._target.course_id, self._target.cmid, None
        else:
            course_id = _positive(self.query_one("#course-id", Input).value, "course id")
            cmid = _positive(self.query_one("#cmid", Input).value, "cmid")
            driver = self._driver() or ""
            if not driver:
                raise InvalidValue("choose an activity driver")
        changed = {f.setting.key: f.value() for f in self.query(SettingField) if f.changed}
        return JobRequest(course_id=course_id, cmid=cmid, driver=driver, settings=changed)


def _positive(raw: str, what: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidValue(f"{what}: enter a number (the Moodle id)") from None
    if value <= 0:
        raise InvalidValue(f"{what}: must be greater than 0")
    return value
