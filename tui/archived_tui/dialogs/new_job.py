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
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, Select

from archived.protocol.courses import CourseView
from archived.protocol.drivers import DriverInfo, SettingsDescription
from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.client import DaemonUnreachable
from archived_tui.api import JobRequest
from archived_tui.safe_text import literal, visible
from archived_tui.widgets.safe_static import SafeStatic
from archived_tui.widgets.setting_field import InvalidValue, SettingField

Describe = Callable[[str, int | None], Awaitable[SettingsDescription]]
Lookup = Callable[[int], Awaitable[CourseView]]
# Typing in the course id or cmid looks them up after this pause.
LOOKUP_DELAY_SECONDS = 0.3


class UnknownActivity(InvalidValue):
    """The course or the activity does not exist in Moodle (the daemon's course overview)."""


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
        self,
        *,
        describe: Describe,
        drivers: Sequence[DriverInfo],
        target: ActivityTarget | None = None,
        lookup: Lookup | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._describe = describe
        self._drivers = list(drivers)
        self._target = target
        self._lookup = lookup
        self._found: tuple[int, int, str] | None = None  # (course id, cmid, "activity in course") looked up
        self._lookup_timer: Timer | None = None
        self._settings_course: int | None = None  # the course whose categories' presets the form shows

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
                yield SafeStatic("Type the course id and the cmid: their names show here.", id="new-job-names")
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
            self._load_settings(driver, self._target.course_id if self._target else None)
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
            self._load_settings(event.value, self._found[0] if self._found else None)

    @work(exclusive=True, group="settings")
    async def _load_settings(self, driver: str, course_id: int | None) -> None:
        status = self.query_one("#settings-status", SafeStatic)
        form = self.query_one("#settings-form", VerticalScroll)
        await form.remove_children()
        self._settings_course = course_id
        status.update(f"Loading the settings of {driver} …")
        try:
            described = await self._describe(driver, course_id)
        except (RpcError, DaemonUnreachable) as exc:
            status.update(Content.from_markup("[$error]Cannot load the settings: $why[/]", why=visible(str(exc))))
            return
        settings = described.settings
        locked = sum(1 for s in settings if s.locked)
        # Name the presets in force: the site's defaults and locks come from these sections of the configuration.
        picks = "" if self._target is not None else " (the driver chosen above picks the second)"
        categories = [level.removeprefix("category ") for level in described.presets if level != "site"]
        then = (
            f", then those of course {course_id}'s categories "
            + ", ".join(f"[category_presets.{c}]" for c in categories)
            + " (a lock above holds below)"
            if categories
            else ""
        )
        status.update(
            f"Presets [presets.job] and [presets.{driver}]{picks}{then}: their values are filled in; "
            + (f"{locked} locked by them (greyed out, cannot be changed)." if locked else "none is locked.")
        )
        await form.mount_all(SettingField(s) for s in settings)

    @on(Input.Changed, "#course-id")
    @on(Input.Changed, "#cmid")
    def _target_typed(self) -> None:
        self._found = None
        if self._lookup_timer is not None:
            self._lookup_timer.stop()
        self._lookup_timer = self.set_timer(LOOKUP_DELAY_SECONDS, self._look_up_now)

    def _look_up_now(self) -> None:
        self._lookup_timer = None
        self._look_up(submit=False)

    @work(exclusive=True, group="lookup")
    async def _look_up(self, *, submit: bool) -> None:
        """Show the course's and the activity's names; refuse ones Moodle does not have (as the CLI does)."""
        names = self.query_one("#new-job-names", SafeStatic)
        try:
            course_id = _positive(self.query_one("#course-id", Input).value, "course id")
            cmid = _positive(self.query_one("#cmid", Input).value, "cmid")
        except InvalidValue as exc:
            if submit:
                self._show_error(str(exc))
            return
        found = await self._find(course_id, cmid)
        if isinstance(found, UnknownActivity):
            names.update(Content.from_markup("[$error]$why[/]", why=visible(str(found))))
            if submit:
                self._show_error(str(found))
            return
        self._found = (course_id, cmid, found)
        names.update(Content.from_markup("[b]$what[/b]", what=visible(found)))
        if submit:
            self._finish()
            return
        driver = self._driver()
        if driver and course_id != self._settings_course:  # the course's categories may have presets and locks
            self._load_settings(driver, course_id)

    async def _find(self, course_id: int, cmid: int) -> str | UnknownActivity:
        """The activity's and course's names ("" without a Moodle to ask), or why they are not there."""
        if self._lookup is None:
            return ""
        try:
            view = await self._lookup(course_id)
        except RpcError as exc:
            if exc.code == ErrorCode.METHOD_NOT_FOUND:
                return "(no Moodle configured: the course and activity are not looked up)"
            if exc.code == ErrorCode.NOT_FOUND:
                return UnknownActivity(f"course {course_id} does not exist in Moodle")
            return UnknownActivity(f"course {course_id} cannot be looked up: {exc.message}")
        except DaemonUnreachable as exc:
            return UnknownActivity(f"cannot look the course up: {exc}")
        course = view.course.fullname or view.course.shortname
        activity = next((a for a in view.activities if a.cmid == cmid), None)
        if activity is None:
            return UnknownActivity(f"course {course_id} ({course}) has no activity with cmid {cmid}")
        return f"{activity.name} ({activity.modname}, cmid {cmid}) in {course} (course {course_id})"

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        """Check the input, look the course and activity up if not done yet, and close with the request."""
        if self._target is None and self._lookup is not None:
            course, cmid = self.query_one("#course-id", Input).value, self.query_one("#cmid", Input).value
            if self._found is None or (str(self._found[0]), str(self._found[1])) != (course.strip(), cmid.strip()):
                self._look_up(submit=True)
                return
        self._finish()

    def _finish(self) -> None:
        try:
            request = self._request()
        except InvalidValue as exc:
            self._show_error(str(exc))
            return
        self.dismiss(request)

    def _show_error(self, why: str) -> None:
        self.query_one("#dialog-error", SafeStatic).update(Content.from_markup("[$error]$why[/]", why=visible(why)))

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
