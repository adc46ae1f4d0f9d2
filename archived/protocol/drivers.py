"""`drivers.list` and `settings.describe`: the installed activity drivers and what a job of each may be told."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from archived.protocol.base import Answer, Params


class DriverInfo(Answer):
    """An installed activity driver."""

    name: str
    title: str = ""
    modname: str = Field(default="", description="the Moodle module type it archives, e.g. quiz")


class DriverList(Answer):
    """The installed activity drivers."""

    activity: list[DriverInfo]


class DriverRef(Params):
    """Which activity driver (and, for `settings.describe`, which course: its categories may have presets)."""

    driver: str
    course_id: int | None = Field(
        default=None, gt=0, description="with a course: the presets and locks of its categories apply too"
    )


class SettingDescription(Answer):
    """One setting: its type, the preset's value and whether a preset locks it, and which presets say so."""

    key: str
    type: str = Field(description="str, int, float, bool, list or choice")
    default: Any = None
    value: Any = Field(default=None, description="the preset value, or the default")
    locked: bool = False
    description: str = ""
    choices: list[Any] | None = None
    source: str = Field(default="default", description="where the value comes from: default, site, category <id>")
    locked_by: str | None = Field(default=None, description="the preset that locks it: site, category <id>")


class SettingsDescription(Answer):
    """The settings every job has, then the driver's own."""

    driver: str
    settings: list[SettingDescription]
    course_id: int | None = None
    category_id: int | None = Field(default=None, description="the course's category (when category presets exist)")
    presets: list[str] = Field(
        default_factory=lambda: ["site"], description="the presets in force, farthest first: site, category <id>, …"
    )
