"""The interface every activity driver implements (quiz, assign, …).

A driver is found through the `archived.activity` entry-point group. The engine only ever talks to this
interface: it hands a driver an `ArchiveContext` and gets payload files plus an `ActivityResult` back.
Drivers use the typed Moodle API and the daemon's render service given in their `DriverEnvironment`; they never
import daemon internals. Both collaborators are libraries below this contract (they import nothing of it): a
driver speaks the render service's vocabulary (`archived_render.render_task`) directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from archived.errors import FatalError
from archived.moodle.api import MoodleApi
from archived_render.service import RenderService


class LogLevel(StrEnum):
    """Levels of the per-job log."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class DriverSettings(BaseModel):
    """Base of every driver's settings model: unknown keys are refused, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


@dataclass(frozen=True)
class DriverEnvironment:
    """What the daemon lends a driver for its whole life (not per job): Moodle, scratch space, the render service."""

    moodle: MoodleApi | None  # None when no [moodle] is configured
    temp_dir: Path
    # The daemon's one render service, shared by every driver and job (`[workers]`); None where nothing renders.
    render: RenderService | None = None
    # Every user the daemon ever saw in a course (kept in its store); None where nothing is kept.
    course_users: CourseUsers | None = None


class CourseUsers(Protocol):
    """The users ever seen in a course, across overview refreshes and jobs: Moodle no longer lists a student whose
    enrolment was removed, yet their attempts and submissions remain, and a complete archive must find them."""

    async def remember(self, course_id: int, users: Sequence[IncludedUser]) -> None:
        """Record that these users were seen in the course now (their names as seen last are kept)."""

    async def known(self, course_id: int) -> list[IncludedUser]:
        """Every user ever seen in the course, by id."""


@dataclass(frozen=True)
class CourseRef:
    """The course an archive belongs to, as Moodle names it."""

    id: int
    shortname: str
    fullname: str
    category_id: int | None = None


@dataclass(frozen=True)
class ActivityRef:
    """The course module an archive holds."""

    cmid: int
    modname: str
    instance_id: int
    name: str


@dataclass(frozen=True)
class IncludedUser:
    """A person whose data is in the archive (REQ-TR-03: who is in the archive)."""

    id: int
    username: str
    firstname: str
    lastname: str
    idnumber: str = ""


@dataclass
class ActivityResult:
    """What the activity stage reports back besides the payload files it wrote."""

    course: CourseRef
    activity: ActivityRef
    users: list[IncludedUser] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    moodle_site: str = ""
    moodle_release: str = ""
    fingerprint: str | None = None  # the activity's state as archived (same formula as `inspect`)
    last_modified: int | None = None  # Unix time of the activity's last change (a backup must not predate it)


@dataclass(frozen=True)
class ActivityStatus:
    """Whether one activity can be archived now, and its fingerprint for change detection."""

    cmid: int
    name: str
    archivable: bool
    reason: str | None = None
    fingerprint: str | None = None


class ArchiveContext(Protocol):
    """What the engine gives a driver for one run of the activity stage of one job."""

    job_id: str
    course_id: int
    cmid: int
    settings: DriverSettings
    payload_dir: Path  # every file written here becomes data/<relative path> in the bag
    work_dir: Path  # scratch space for this job, kept across retries, removed at cleanup
    created_at: datetime  # job creation time (UTC), the ${date}/${time} of file-name patterns

    async def progress(self, percent: float, text: str) -> None:
        """Report progress (0–100) and a human line such as 'rendering attempt 37/120'."""

    async def log(self, level: LogLevel, message: str) -> None:
        """Append a line to the job's log (never put secrets in it)."""

    async def load_checkpoint(self) -> dict[str, Any] | None:
        """The driver's own partial-progress record from an earlier interrupted run, if any."""

    async def save_checkpoint(self, data: dict[str, Any]) -> None:
        """Durably record partial progress so a restarted stage can skip finished work."""

    async def load_checkpoint_items(self) -> dict[str, Any]:
        """Finished units of work (e.g. attempts) recorded one by one by an earlier run, by key; {} if none."""

    async def save_checkpoint_items(self, items: dict[str, Any]) -> None:
        """Durably record finished units of work, adding to those recorded before (same key: replaced).

        For work made of many units: each call costs what its items cost, however many came before, where
        `save_checkpoint` rewrites the whole record each time.
        """


class ActivityDriver(ABC):
    """Archives one kind of Moodle activity."""

    name: ClassVar[str]  # entry-point name and the `driver` of a job, e.g. "quiz"
    modname: ClassVar[str]  # the Moodle module it handles, e.g. "quiz"
    title: ClassVar[str]  # human name, e.g. "Quiz"
    settings_model: ClassVar[type[DriverSettings]]

    def __init__(self, env: DriverEnvironment) -> None:
        self.env = env

    def moodle(self) -> MoodleApi:
        """The Moodle API the daemon lent; a FatalError (`no_moodle`) when no [moodle] is configured."""
        if self.env.moodle is None:
            raise FatalError(f"no Moodle site is configured; the {self.name} driver needs one", code="no_moodle")
        return self.env.moodle

    def render_service(self) -> RenderService:
        """The daemon's render service; a FatalError (`no_render_service`) where the daemon gave none."""
        if self.env.render is None:
            raise FatalError(f"the daemon gave the {self.name} driver no render service", code="no_render_service")
        return self.env.render

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire long-lived resources (worker pools); called once by the daemon."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `start` acquired."""

    @abstractmethod
    async def inspect(self, course_id: int, cmids: list[int]) -> list[ActivityStatus]:
        """For each given course module of this driver's type: archivable now (or why not) and fingerprint."""

    @abstractmethod
    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Extract the activity into `ctx.payload_dir`; raise RecoverableError/FatalError on failure."""
