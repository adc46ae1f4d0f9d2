"""What every simulated web-service function gets and declares.

`ExternalFunction` mirrors an `external_functions` row plus its PHP class: component, parameter description,
returns description (both may differ per release) and the implementation. `Call` is the environment of one
request: the world, the release profile, the site URL, the debug flag, the `external_functions` table and the
`moodlewssetting*` values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from archived.simulator.data.world import World
from archived.simulator.exceptions import MoodleError, missing_row
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.questions.filters import filter_text
from archived.simulator.schema import Desc, Single


@dataclass
class WsSettings:
    """`moodlewssettingraw`, `...fileurl`, `...filter`, `...lang` (external_settings defaults for WS calls)."""

    raw: bool = False
    fileurl: bool = True
    filter: bool = False
    lang: str = ""


@dataclass
class Call:
    """One call of a web-service function."""

    world: World
    profile: ReleaseProfile
    wwwroot: str
    debug: bool
    # Passed in by the REST endpoint rather than imported: the registry imports every function module.
    functions: Mapping[str, ExternalFunction]
    settings: WsSettings = field(default_factory=WsSettings)

    @property
    def userid(self) -> int:
        """The token user (the archiver service account)."""
        return self.world.service_user_id

    def theme_url(self, component: str, image: str) -> str:
        """`theme/image.php` URL of a theme icon."""
        return f"{self.wwwroot}/theme/image.php/boost/{component}/{self.profile.theme_revision}/{image}"

    def user_picture(self, size: str) -> str:
        """The default user picture (f1 large, f2 small)."""
        return self.theme_url("core", f"u/{size}")

    def pluginfile(
        self,
        contextid: int,
        component: str,
        filearea: str,
        itemid: int | None,
        path: str,
        filename: str,
        *,
        webservice: bool = True,
    ) -> str:
        """A `pluginfile.php` URL; `itemid=None` for areas without an item id."""
        script = "webservice/pluginfile.php" if webservice else "pluginfile.php"
        parts = [str(contextid), component, filearea]
        if itemid is not None:
            parts.append(str(itemid))
        base = "/".join(quote(p) for p in parts)
        return f"{self.wwwroot}/{script}/{base}{quote(path)}{quote(filename)}"

    def format_text(self, text: str, contextid: int, component: str, filearea: str, itemid: int | None) -> str:
        """`core_external\\util::format_text`: rewrite `@@PLUGINFILE@@` and run filters if asked to."""
        if self.settings.fileurl and "@@PLUGINFILE@@/" in text:
            text = text.replace("@@PLUGINFILE@@/", self.pluginfile(contextid, component, filearea, itemid, "/", ""))
        if self.settings.filter and not self.settings.raw:
            text = filter_text(text)
        return text

    def require(self, capability: str, name: str) -> None:
        """`require_capability()` for the token user; raises `nopermissions` naming the capability."""
        if not self.world.has_capability(capability):
            raise MoodleError("nopermissions", base="required_capability_exception", a=name)

    def course(self, courseid: int) -> Any:
        """The course or the missing-record error Moodle raises."""
        course = self.world.courses.get(courseid)
        if course is None:
            raise missing_row("course", courseid)
        return course


Impl = Callable[[Call, dict[str, Any]], Any]


@dataclass(frozen=True)
class ExternalFunction:
    """A web-service function: descriptions per release and the implementation."""

    name: str
    component: str
    params: Callable[[ReleaseProfile], Single]
    returns: Callable[[ReleaseProfile], Desc | None]
    impl: Impl
    since: tuple[int, int] = (0, 0)

    def available(self, profile: ReleaseProfile) -> bool:
        """Whether the function exists in this release."""
        return profile.numeric >= self.since


def fixed(desc: Any) -> Callable[[ReleaseProfile], Any]:
    """A description that is the same in every release."""
    return lambda profile: desc
