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
    """Which activity driver."""

    driver: str


class SettingDescription(Answer):
    """One setting: its type, the site preset's value and whether the preset locks it."""

    key: str
    type: str = Field(description="str, int, float, bool, list or choice")
    default: Any = None
    value: Any = Field(default=None, description="the preset value, or the default")
    locked: bool = False
    description: str = ""
    choices: list[Any] | None = None


class SettingsDescription(Answer):
    """The settings every job has, then the driver's own."""

    driver: str
    settings: list[SettingDescription]
