"""Finding drivers through Python entry points, so a third party can add one without touching this repository.

Groups: `archived.activity` (activity drivers), `archived.storage` (storage drivers).
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from archived.interfaces.activity import ActivityDriver
from archived.interfaces.storage import StorageDriver

log = logging.getLogger("archived.plugins")

ACTIVITY_GROUP = "archived.activity"
STORAGE_GROUP = "archived.storage"


def _load(group: str, base: type, only: set[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in sorted(entry_points(group=group), key=lambda e: e.name):
        if only is not None and entry.name not in only:
            continue  # not configured: its libraries (botocore, asyncssh, …) stay out of the daemon's memory
        try:
            cls = entry.load()
        except Exception as exc:  # a broken third-party plugin must not take the daemon down
            log.error("cannot load %s plugin %r (%s): %s", group, entry.name, entry.value, exc)
            continue
        if not (isinstance(cls, type) and issubclass(cls, base)):
            log.error("%s plugin %r (%s) is not a %s", group, entry.name, entry.value, base.__name__)
            continue
        found[entry.name] = cls
    return found


def activity_drivers() -> dict[str, type[ActivityDriver]]:
    """Installed activity drivers by name."""
    return _load(ACTIVITY_GROUP, ActivityDriver)


def storage_drivers(only: set[str] | None = None) -> dict[str, type[StorageDriver]]:
    """Installed storage drivers by name (only those named in `only`, when given)."""
    return _load(STORAGE_GROUP, StorageDriver, only)


def storage_driver_names() -> list[str]:
    """The names of every installed storage driver, without loading any."""
    return sorted({entry.name for entry in entry_points(group=STORAGE_GROUP)})
