"""core_files_get_files: the file browser (contract §3.19).

Without `moodle/course:managefiles` (the recorded archiver role lacks it) the browser shows no files in
course and module areas, only the parent contexts of a context root; with it, areas and files appear and
`url` is the web `pluginfile.php` form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from archived.simulator.data.backups import LISTED_WITH_ITEMID as BACKUP_AREAS_LISTED_WITH_ITEMID
from archived.simulator.data.backups import may_list as may_list_backups
from archived.simulator.data.world import (
    CONTEXT_COURSE,
    CONTEXT_COURSECAT,
    CONTEXT_MODULE,
    CONTEXT_SYSTEM,
    CONTEXT_USER,
)
from archived.simulator.exceptions import MoodleError
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.paramtypes import ALPHA, BOOL, INT, RAW, TEXT
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value

_LEVELS = {
    "system": CONTEXT_SYSTEM,
    "user": CONTEXT_USER,
    "coursecat": CONTEXT_COURSECAT,
    "course": CONTEXT_COURSE,
    "module": CONTEXT_MODULE,
}
_AREA_NAMES = {("mod_resource", "intro"): "Description", ("mod_resource", "content"): "Files and subfolders"}


def _params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "contextid": value(INT),
            "component": value(TEXT),
            "filearea": value(TEXT),
            "itemid": value(INT),
            "filepath": value(RAW),
            "filename": value(TEXT),
            "modified": value(INT, default=None),
            "contextlevel": value(ALPHA, default=None),
            "instanceid": value(INT, default=None),
        }
    )


def _returns(profile: ReleaseProfile) -> Desc:
    parent: dict[str, Desc] = {
        "contextid": value(INT),
        "component": value(RAW),
        "filearea": value(RAW),
        "itemid": value(INT),
        "filepath": value(TEXT),
        "filename": value(TEXT),
    }
    entry: dict[str, Desc] = dict(parent)
    entry.update(
        {
            "isdir": value(BOOL),
            "url": value(TEXT),
            "timemodified": value(INT),
            "timecreated": value(INT, opt=True),
            "filesize": value(INT, opt=True),
            "author": value(TEXT, opt=True),
            "license": value(TEXT, opt=True),
        }
    )
    return single({"parents": multiple(single(parent)), "files": multiple(single(entry))})


def _resolve_context(call: Call, params: dict[str, Any]) -> int:
    world = call.world
    contextid = params["contextid"]
    if contextid == -1:
        level = _LEVELS.get(str(params["contextlevel"]))
        if level is None:
            raise MoodleError("codingerror", base="coding_exception", a="Invalid context level")
        for info in world.contexts.values():
            if info.level == level and info.instanceid == (params["instanceid"] or 0):
                return info.id
        raise MoodleError("invalidcontext", message="Invalid context")
    if contextid == 0:
        return 1
    if contextid not in world.contexts:
        raise MoodleError("invalidcontext", message="Invalid context")
    return int(contextid)


def _node(info: Any) -> dict[str, Any]:
    return {
        "contextid": info.id,
        "component": None,
        "filearea": None,
        "itemid": None,
        "filepath": None,
        "filename": info.name,
    }


def get_files(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Browse a context root or one file area."""
    world = call.world
    contextid = _resolve_context(call, params)
    manage = world.has_capability("moodle/course:managefiles")
    chain = world.context_path(contextid)
    component, filearea = params["component"], params["filearea"]
    if not component and not filearea:
        parents = [_node(info) for info in chain[:-1]]
        files = []
        if manage:
            areas = sorted({(f.component, f.filearea) for f in world.files.values() if f.contextid == contextid})
            if ("mod_resource", "content") in areas:
                areas = [("mod_resource", "intro"), *areas]
            for comp, area in areas:
                stamps = [f.timemodified for f in world.files.values() if f.key[:3] == (contextid, comp, area)]
                files.append(
                    {
                        "contextid": contextid,
                        "component": comp,
                        "filearea": area,
                        "itemid": 0,
                        "filepath": "/",
                        "filename": _AREA_NAMES.get((comp, area), area),
                        "isdir": True,
                        "url": None,
                        "timemodified": max(stamps, default=0),
                        "timecreated": max(stamps, default=0),
                        "filesize": 0,
                        "author": None,
                        "license": None,
                    }
                )
        return {"parents": parents, "files": files}
    backups = component == "backup"  # the backup areas have capabilities of their own (`data.backups`)
    if not (may_list_backups(world, filearea) if backups else manage):
        return {"parents": [], "files": []}
    parents = [_node(info) for info in chain]
    files = []
    for stored in sorted(world.files.values(), key=lambda f: f.filename):
        if stored.key[:5] != (contextid, component, filearea, params["itemid"], params["filepath"] or "/"):
            continue
        if params["filename"] and stored.filename != params["filename"]:
            continue
        if params["modified"] and stored.timemodified < params["modified"]:
            continue
        itemid = "" if backups and filearea not in BACKUP_AREAS_LISTED_WITH_ITEMID else f"/{stored.itemid}"
        url = (
            f"{call.wwwroot}/pluginfile.php/{stored.contextid}/{stored.component}/{stored.filearea}"
            f"{itemid}{quote(stored.filepath)}{quote(stored.filename)}"
        )
        files.append(
            {
                "contextid": stored.contextid,
                "component": stored.component,
                "filearea": stored.filearea,
                "itemid": stored.itemid,
                "filepath": stored.filepath,
                "filename": stored.filename,
                "isdir": False,
                "url": url,
                "timemodified": stored.timemodified,
                "timecreated": stored.timecreated,
                "filesize": stored.filesize,
                "author": stored.author,
                "license": stored.license,
            }
        )
    return {"parents": parents, "files": files}


FUNCTIONS = (ExternalFunction("core_files_get_files", "core", _params, _returns, get_files),)
