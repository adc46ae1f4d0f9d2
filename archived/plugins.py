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


def _load(group: str, base: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in sorted(entry_points(group=group), key=lambda e: e.name):
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


def storage_drivers() -> dict[str, type[StorageDriver]]:
    """Installed storage drivers by name."""
    return _load(STORAGE_GROUP, StorageDriver)
