"""`drivers.list` and `settings.describe`: the installed activity drivers and their settings with presets."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Protocol

from archived.interfaces.activity import ActivityDriver
from archived.jobs.settings import DescribedSettings
from archived.protocol import drivers as wire
from archived.protocol.base import NoParams
from archived.protocol.methods import DRIVERS_LIST, SETTINGS_DESCRIBE
from archived.rpc.method import Method, method


class SettingsCatalogue(Protocol):
    """Describes the job's and a driver's settings with the presets and locks in force, for a course if given (the
    engine)."""

    async def describe_settings(self, driver: str, course_id: int | None = None) -> DescribedSettings: ...


async def drivers_list(_: NoParams, *, drivers: Mapping[str, ActivityDriver]) -> wire.DriverList:
    """The installed activity drivers, by name."""
    return wire.DriverList(
        activity=[
            wire.DriverInfo(name=name, title=driver.title, modname=driver.modname)
            for name, driver in sorted(drivers.items())
        ]
    )


async def settings_describe(params: wire.DriverRef, *, catalogue: SettingsCatalogue) -> wire.SettingsDescription:
    """The job's settings, then the driver's, each with its default, the preset value and its lock (with a course:
    its categories' presets applied)."""
    described = await catalogue.describe_settings(params.driver, params.course_id)
    settings = [
        wire.SettingDescription(
            key=s.key,
            type=s.type,
            default=s.default,
            value=s.value,
            locked=s.locked,
            description=s.description,
            choices=s.choices,
            source=s.source,
            locked_by=s.locked_by,
        )
        for s in described.settings
    ]
    return wire.SettingsDescription(
        driver=params.driver,
        settings=settings,
        course_id=params.course_id,
        category_id=described.category_id,
        presets=described.applied,
    )


def driver_methods(*, drivers: Mapping[str, ActivityDriver], catalogue: SettingsCatalogue) -> list[Method[Any, Any]]:
    """`drivers.list` and `settings.describe`, bound to the installed drivers and the engine."""
    return [
        method(DRIVERS_LIST, partial(drivers_list, drivers=drivers)),
        method(SETTINGS_DESCRIBE, partial(settings_describe, catalogue=catalogue)),
    ]
