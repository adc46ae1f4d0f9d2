"""Moodle backups (.mbz) in the backup file areas, as automated backups and `admin/cli/backup.php` leave them.

Component `backup`: `automated` and `course` in the course context, `activity` in the module context, item id 0.
Moodle serves them through pluginfile.php without an item id, but its file browser lists automated backups with
`/0/` in the URL (recorded on 4.5.6: that URL answers 404). Listing needs `moodle/restore:viewautomatedfilearea`
(automated), `moodle/backup:backupcourse` (course) or `moodle/backup:backupactivity` (activity); downloading needs
`moodle/backup:downloadfile`.
"""

from __future__ import annotations

from archived.simulator.data.world import World
from archived.simulator.storedfile import StoredFile

AREAS = ("automated", "course", "activity")
# The capability that lets the service user see each backup area in the file browser.
LIST_CAPABILITY = {
    "automated": "moodle/restore:viewautomatedfilearea",
    "course": "moodle/backup:backupcourse",
    "activity": "moodle/backup:backupactivity",
}
DOWNLOAD_CAPABILITY = "moodle/backup:downloadfile"
# Areas whose file-browser URL keeps the item id although pluginfile.php serves them without one.
LISTED_WITH_ITEMID = frozenset({"automated"})
CAPABILITIES = frozenset({*LIST_CAPABILITY.values(), DOWNLOAD_CAPABILITY})


def add_backup(
    world: World, *, area: str, filename: str, content: bytes, timecreated: int, courseid: int, cmid: int | None = None
) -> StoredFile:
    """Store a backup in `area` of the course (or, for `activity`, of course module `cmid`)."""
    if area not in AREAS:
        raise ValueError(f"unknown backup area {area!r}")
    if area == "activity":
        if cmid is None:
            raise ValueError("an activity backup needs the course module id")
        contextid = world.modules[cmid].contextid
    else:
        contextid = world.courses[courseid].contextid
    stored = StoredFile(
        contextid, "backup", area, 0, "/", filename, "application/vnd.moodle.backup", timecreated, timecreated,
        source=content,
    )  # fmt: skip
    with world.lock:
        return world.add_file(stored)


def may_list(world: World, area: str) -> bool:
    """Whether the service user sees backup area `area` in the file browser."""
    return area in LIST_CAPABILITY and world.has_capability(LIST_CAPABILITY[area])
