"""core_course: categories, courses, courses by field and course contents (contract §3.2–3.5)."""

from __future__ import annotations

import json
from typing import Any

from archived.simulator.data.model import Course, CourseModule
from archived.simulator.exceptions import MoodleError, invalid_parameter
from archived.simulator.functions.base import Call, ExternalFunction, fixed
from archived.simulator.functions.structures import external_files, warnings_desc
from archived.simulator.paramtypes import ALPHA, ALPHANUM, BOOL, INT, RAW, TEXT, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Multiple, Single, multiple, single, value

_FILTERS = ["displayh5p", "activitynames", "mathjaxloader", "emoticon", "urltolink", "mediaplugin"]
_MODPLURAL = {"quiz": "Quizzes", "assign": "Assignments", "resource": "Files", "qbank": "Question banks"}
_PURPOSE = {"quiz": "assessment", "assign": "assessment", "resource": "content", "qbank": "content"}


# --- core_course_get_categories ----------------------------------------------------------------------------
def _categories_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "criteria": multiple(single({"key": value(ALPHA), "value": value(RAW)}), default=[]),
            "addsubcategories": value(BOOL, default=True),
        }
    )


def _categories_returns(profile: ReleaseProfile) -> Desc:
    return multiple(
        single(
            {
                "id": value(INT),
                "name": value(RAW),
                "idnumber": value(RAW, opt=True),
                "description": value(RAW),
                "descriptionformat": value(INT),
                "parent": value(INT),
                "sortorder": value(INT),
                "coursecount": value(INT),
                "visible": value(INT, opt=True),
                "visibleold": value(INT, opt=True),
                "timemodified": value(INT, opt=True),
                "depth": value(INT),
                "path": value(TEXT),
                "theme": value(RAW, opt=True),
            }
        )
    )


def get_categories(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Categories matching every criterion, plus their descendants when `addsubcategories`."""
    world = call.world
    manager = world.has_capability("moodle/category:manage")
    matched = list(world.categories.values())
    for criterion in params["criteria"]:
        key, raw = criterion["key"], criterion["value"]
        if key in ("idnumber", "theme") and not manager:
            raise MoodleError("criteriaerror", debuginfo=f"You can not search on this criteria: {key}")
        if key == "id":
            matched = [c for c in matched if str(c.id) == str(raw)]
        elif key == "ids":
            wanted = {part.strip() for part in str(raw).split(",")}
            matched = [c for c in matched if str(c.id) in wanted]
        elif key == "name":
            matched = [c for c in matched if c.name == raw]
        elif key == "parent":
            matched = [c for c in matched if str(c.parent) == str(raw)]
        elif key == "idnumber":
            matched = [c for c in matched if c.idnumber == raw]
        elif key == "visible":
            matched = [c for c in matched if str(c.visible) == str(raw)]
        elif key == "theme":
            matched = []
        else:
            raise MoodleError("criteriaerror", debuginfo=f"You can not search on this criteria: {key}")
    if params["addsubcategories"] and params["criteria"]:
        extra = [
            c
            for c in world.categories.values()
            if any(c.path.startswith(m.path + "/") for m in matched) and c not in matched
        ]
        matched += extra
    result = []
    for category in sorted(matched, key=lambda c: str(c.sortorder)):
        count = sum(1 for course in world.courses.values() if course.categoryid == category.id)
        entry: dict[str, Any] = {
            "id": category.id,
            "name": category.name,
            "description": call.format_text(category.description, category.contextid, "coursecat", "description", None),
            "descriptionformat": 1,
            "parent": category.parent,
            "sortorder": category.sortorder,
            "coursecount": count,
            "depth": category.depth,
            "path": category.path,
        }
        if manager:
            entry.update(
                idnumber=category.idnumber,
                visible=category.visible,
                visibleold=category.visible,
                timemodified=category.timemodified,
                theme="",
            )
        result.append(entry)
    return result


# --- core_course_get_courses -------------------------------------------------------------------------------
def _courses_params(profile: ReleaseProfile) -> Single:
    return single({"options": single({"ids": multiple(value(INT), opt=True)}, default={})})


def _courses_returns(profile: ReleaseProfile) -> Desc:
    keyvalue = multiple(single({"name": value(ALPHANUM), "value": value(RAW)}), opt=True)
    return multiple(
        single(
            {
                "id": value(INT),
                "shortname": value(RAW),
                "categoryid": value(INT),
                "categorysortorder": value(INT, opt=True),
                "fullname": value(RAW),
                "displayname": value(RAW),
                "idnumber": value(RAW, opt=True),
                "summary": value(RAW),
                "summaryformat": value(INT),
                "format": value(ALPHANUM),
                "showgrades": value(INT, opt=True),
                "newsitems": value(INT, opt=True),
                "startdate": value(INT),
                "enddate": value(INT),
                "numsections": value(INT, opt=True),
                "maxbytes": value(INT, opt=True),
                "showreports": value(INT, opt=True),
                "visible": value(INT, opt=True),
                "hiddensections": value(INT, opt=True),
                "groupmode": value(INT, opt=True),
                "groupmodeforce": value(INT, opt=True),
                "defaultgroupingid": value(INT, opt=True),
                "timecreated": value(INT, opt=True),
                "timemodified": value(INT, opt=True),
                "enablecompletion": value(INT, opt=True),
                "completionnotify": value(INT, opt=True),
                "lang": value(RAW, opt=True),
                "forcetheme": value(RAW, opt=True),
                "courseformatoptions": keyvalue,
                "showactivitydates": value(BOOL),
                "showcompletionconditions": value(BOOL),
                "customfields": multiple(
                    single(
                        {
                            "name": value(RAW),
                            "shortname": value(RAW),
                            "type": value(RAW),
                            "valueraw": value(RAW),
                            "value": value(RAW),
                        }
                    ),
                    opt=True,
                ),
            }
        )
    )


def get_courses(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Courses by id (all, front page included, without ids)."""
    world = call.world
    ids = params["options"].get("ids")
    courses = sorted(world.courses.values(), key=lambda c: c.id)
    if ids:
        wanted = set(ids)
        courses = [c for c in courses if c.id in wanted]
    result = []
    for course in courses:
        if course.id != 1:
            call.require("moodle/course:view", "View courses without participation")
        entry: dict[str, Any] = {
            "id": course.id,
            "shortname": course.shortname,
            "categoryid": course.categoryid,
            "fullname": course.fullname,
            "displayname": course.fullname,
            "summary": call.format_text(course.summary, course.contextid, "course", "summary", None),
            "summaryformat": course.summaryformat,
            "format": course.format,
            "startdate": course.startdate,
            "enddate": course.enddate,
            "showactivitydates": False,
            "showcompletionconditions": None if course.format == "site" else True,
        }
        if course.format == "site":
            entry["numsections"] = 1
        result.append(entry)
    return result


# --- core_course_get_courses_by_field ----------------------------------------------------------------------
def _by_field_params(profile: ReleaseProfile) -> Single:
    return single({"field": value(ALPHA, default=""), "value": value(RAW, default="")})


def _by_field_returns(profile: ReleaseProfile) -> Desc:
    files = external_files(profile)
    keys: dict[str, Desc] = {
        "id": value(INT),
        "fullname": value(RAW),
        "displayname": value(RAW),
        "shortname": value(RAW),
    }
    if profile.at_least(4, 2):
        keys["courseimage"] = value(URL, opt=True)
    keys.update(
        {
            "categoryid": value(INT),
            "categoryname": value(RAW),
            "sortorder": value(INT, opt=True),
            "summary": value(RAW),
            "summaryformat": value(INT),
            "summaryfiles": files,
            "overviewfiles": multiple(files.content if isinstance(files, Multiple) else files),
            "showactivitydates": value(BOOL),
            "showcompletionconditions": value(BOOL),
            "contacts": multiple(single({"id": value(INT), "fullname": value(RAW)})),
            "enrollmentmethods": multiple(value(RAW)),
            "customfields": multiple(
                single(
                    {
                        "name": value(RAW),
                        "shortname": value(RAW),
                        "type": value(RAW),
                        "valueraw": value(RAW),
                        "value": value(RAW),
                    }
                ),
                opt=True,
            ),
        }
    )
    for name in ("idnumber", "format"):
        keys[name] = value(RAW, opt=True)
    for name in (
        "showgrades",
        "newsitems",
        "startdate",
        "enddate",
        "maxbytes",
        "showreports",
        "visible",
        "groupmode",
        "groupmodeforce",
        "defaultgroupingid",
        "enablecompletion",
        "completionnotify",
    ):
        keys[name] = value(INT, opt=True)
    for name in ("lang", "theme"):
        keys[name] = value(RAW, opt=True)
    keys["marker"] = value(INT, opt=True)
    keys["legacyfiles"] = value(INT, opt=True)
    keys["calendartype"] = value(RAW, opt=True)
    for name in ("timecreated", "timemodified", "requested", "cacherev"):
        keys[name] = value(INT, opt=True)
    keys["filters"] = multiple(
        single({"filter": value(RAW), "localstate": value(INT), "inheritedstate": value(INT)}), opt=True
    )
    keys["courseformatoptions"] = multiple(single({"name": value(RAW), "value": value(RAW)}), opt=True)
    if profile.at_least(4, 4):
        keys["communicationroomname"] = value(RAW, opt=True)
        keys["communicationroomurl"] = value(RAW, opt=True)
    return single({"courses": multiple(single(keys)), "warnings": warnings_desc()})


def course_public(call: Call, course: Course) -> dict[str, Any]:
    """The public information + extras of one course as get_courses_by_field lists it."""
    world = call.world
    category = world.categories.get(course.categoryid)
    teacher_ids = [u.id for u, role in world.course_users(course.id) if role.shortname == "editingteacher"]
    entry: dict[str, Any] = {
        "id": course.id,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "shortname": course.shortname,
        "courseimage": f"{call.wwwroot}/pluginfile.php/{course.contextid}/course/generated/course.svg",
        "categoryid": course.categoryid,
        "categoryname": category.name if category else "",
        "sortorder": course.sortorder,
        "summary": call.format_text(course.summary, course.contextid, "course", "summary", None),
        "summaryformat": course.summaryformat,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": False,
        "showcompletionconditions": True,
        "contacts": [{"id": uid, "fullname": world.users[uid].fullname} for uid in teacher_ids],
        "enrollmentmethods": ["manual"],
        "format": course.format,
        "showgrades": course.showgrades,
        "newsitems": course.newsitems,
        "startdate": course.startdate,
        "enddate": course.enddate,
        "maxbytes": 0,
        "showreports": 0,
        "visible": course.visible,
        "groupmode": 0,
        "groupmodeforce": 0,
        "defaultgroupingid": 0,
        "enablecompletion": course.enablecompletion,
        "completionnotify": 0,
        "lang": "",
        "theme": "",
        "marker": 0,
        "filters": [{"filter": name, "localstate": 0, "inheritedstate": 1} for name in _FILTERS],
        "courseformatoptions": [{"name": name, "value": option} for name, option in course.courseformatoptions],
    }
    if world.has_capability("moodle/course:update"):
        entry.update(
            idnumber="",
            legacyfiles=0,
            calendartype="",
            timecreated=course.timecreated,
            timemodified=course.timemodified,
            requested=0,
            cacherev=course.timemodified,
        )
    return entry


def get_courses_by_field(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Courses by id, ids, shortname, idnumber, category (or sectionid on 4.5+); all without a field."""
    world = call.world
    field, raw = params["field"], params["value"]
    allowed = {"", "id", "ids", "shortname", "idnumber", "category"}
    if call.profile.at_least(4, 5):
        allowed.add("sectionid")
    if field not in allowed:
        raise invalid_parameter("Invalid field name")
    courses = [c for c in sorted(world.courses.values(), key=lambda c: c.id) if c.id != 1]
    if field == "id":
        courses = [c for c in courses if str(c.id) == str(raw).strip()]
    elif field == "ids":
        wanted = {part.strip() for part in str(raw).split(",")}
        courses = [c for c in courses if str(c.id) in wanted]
    elif field == "shortname":
        courses = [c for c in courses if c.shortname == raw]
    elif field == "idnumber":
        courses = []
    elif field == "category":
        courses = [c for c in courses if str(c.categoryid) == str(raw).strip()]
    elif field == "sectionid":
        courses = [c for c in courses if any(str(s.id) == str(raw).strip() for s in c.sections)]
    return {"courses": [course_public(call, c) for c in courses], "warnings": []}


# --- core_course_get_contents ------------------------------------------------------------------------------
def _contents_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "courseid": value(INT),
            "options": multiple(single({"name": value(ALPHANUM), "value": value(RAW)}), default=[]),
        }
    )


def _contents_returns(profile: ReleaseProfile) -> Desc:
    module: dict[str, Desc] = {
        "id": value(INT),
        "url": value(URL, opt=True),
        "name": value(RAW),
        "instance": value(INT, opt=True),
        "contextid": value(INT, opt=True),
        "description": value(RAW, opt=True),
        "visible": value(INT, opt=True),
        "uservisible": value(BOOL, opt=True),
        "availabilityinfo": value(RAW, opt=True),
        "visibleoncoursepage": value(INT, opt=True),
        "modicon": value(URL),
        "modname": value(RAW),
    }
    if profile.modern_course_fields:
        module["purpose"] = value(RAW)
        module["branded"] = value(BOOL, opt=True)
    module.update(
        {
            "modplural": value(RAW),
            "availability": value(RAW, opt=True),
            "indent": value(INT),
            "onclick": value(RAW, opt=True),
            "afterlink": value(RAW, opt=True),
        }
    )
    if profile.at_least(4, 3):
        module["activitybadge"] = single(
            {
                "badgecontent": value(TEXT, opt=True),
                "badgestyle": value(TEXT, opt=True),
                "badgeurl": value(URL, opt=True),
                "badgeelementid": value(RAW, opt=True),
                "badgeextraattributes": multiple(
                    single({"name": value(RAW, opt=True), "value": value(RAW, opt=True)}), opt=True
                ),
            },
            opt=True,
        )
    completion_keys: dict[str, Desc] = {
        "state": value(INT),
        "timecompleted": value(INT),
        "overrideby": value(INT),
        "valueused": value(BOOL, opt=True),
        "hascompletion": value(BOOL),
        "isautomatic": value(BOOL),
        "istrackeduser": value(BOOL),
        "uservisible": value(BOOL),
        "details": multiple(
            single({"rulename": value(RAW), "rulevalue": single({"status": value(INT), "description": value(RAW)})})
        ),
    }
    if profile.modern_course_fields:
        completion_keys["isoverallcomplete"] = value(BOOL, opt=True)
    module.update(
        {
            "customdata": value(RAW, opt=True),
            "noviewlink": value(BOOL, opt=True),
            "completion": value(INT, opt=True),
            "completiondata": single(completion_keys, opt=True),
            "downloadcontent": value(INT, opt=True),
            "dates": multiple(
                single(
                    {
                        "label": value(RAW),
                        "timestamp": value(INT),
                        "relativeto": value(INT, opt=True),
                        "dataid": value(RAW, opt=True),
                    }
                ),
                default=[],
            ),
        }
    )
    if profile.modern_course_fields:
        module["groupmode"] = value(INT, opt=True)
    module["contents"] = multiple(
        single(
            {
                "type": value(TEXT),
                "filename": value(TEXT),
                "filepath": value(TEXT),
                "filesize": value(INT),
                "fileurl": value(URL, opt=True),
                "content": value(RAW, opt=True),
                "timecreated": value(INT),
                "timemodified": value(INT),
                "sortorder": value(INT),
                "mimetype": value(RAW, opt=True),
                "isexternalfile": value(BOOL, opt=True),
                "repositorytype": value(RAW, opt=True),
                "userid": value(INT),
                "author": value(TEXT),
                "license": value(TEXT),
                "tags": multiple(single({"id": value(INT), "name": value(RAW)}), opt=True),
            }
        ),
        default=[],
    )
    module["contentsinfo"] = single(
        {
            "filescount": value(INT),
            "filessize": value(INT),
            "lastmodified": value(INT),
            "mimetypes": multiple(value(RAW)),
            "repositorytype": value(RAW, opt=True),
        },
        opt=True,
    )
    section: dict[str, Desc] = {
        "id": value(INT),
        "name": value(RAW),
        "visible": value(INT, opt=True),
        "summary": value(RAW),
        "summaryformat": value(INT),
        "section": value(INT, opt=True),
        "hiddenbynumsections": value(INT, opt=True),
        "uservisible": value(BOOL, opt=True),
        "availabilityinfo": value(RAW, opt=True),
    }
    if profile.modern_course_fields:
        section["component"] = value(RAW, opt=True)
        section["itemid"] = value(INT, opt=True)
    section["modules"] = multiple(single(module))
    return multiple(single(section))


def _display_size(size: int) -> str:
    if size < 1024:
        return f"{size}\u00a0bytes"
    if size < 1048576:
        return f"{round(size / 1024, 1):g}\u00a0KB"
    return f"{round(size / 1048576, 1):g}\u00a0MB"


def _dates(call: Call, module: CourseModule) -> list[dict[str, Any]]:
    now = call.world.now
    if module.modname == "quiz":
        quiz = call.world.quizzes[module.instance]
        dates = []
        if quiz.timeopen:
            dates.append(
                {
                    "label": "Opened:" if quiz.timeopen <= now else "Opens:",
                    "timestamp": quiz.timeopen,
                    "dataid": "timeopen",
                }
            )
        if quiz.timeclose:
            dates.append(
                {
                    "label": "Closed:" if quiz.timeclose <= now else "Closes:",
                    "timestamp": quiz.timeclose,
                    "dataid": "timeclose",
                }
            )
        return dates
    if module.modname == "assign":
        assign = call.world.assigns[module.instance]
        opened = assign.allowsubmissionsfromdate
        return [
            {
                "label": "Opened:" if opened <= now else "Opens:",
                "timestamp": opened,
                "dataid": "allowsubmissionsfromdate",
            },
            {"label": "Due:", "timestamp": assign.duedate, "dataid": "duedate"},
        ]
    return []


def _customdata(call: Call, module: CourseModule) -> str:
    if module.modname == "qbank":
        return '""'
    if module.modname == "quiz":
        quiz = call.world.quizzes[module.instance]
        data = {}
        if quiz.timeopen:
            data["timeopen"] = str(quiz.timeopen)
        if quiz.timeclose:
            data["timeclose"] = str(quiz.timeclose)
        return json.dumps(data, separators=(",", ":")) if data else '""'
    if module.modname == "assign":
        assign = call.world.assigns[module.instance]
        return json.dumps(
            {"duedate": assign.duedate, "allowsubmissionsfromdate": str(assign.allowsubmissionsfromdate)},
            separators=(",", ":"),
        )
    resource = call.world.resources[module.instance]
    size = resource.file.filesize
    serialized = (
        'a:4:{s:10:"printintro";i:0;s:8:"showsize";i:1;s:8:"showtype";i:1;s:11:"filedetails";a:4:{'
        f's:4:"size";i:{size};s:4:"type";s:12:"PDF document";s:8:"mimetype";s:15:"application/pdf";'
        's:9:"extension";s:3:"PDF";}}'
    )
    return json.dumps({"filtericon": True, "displayoptions": serialized, "display": 5}, separators=(",", ":")).replace(
        "/", "\\/"
    )


def _module_entry(call: Call, module: CourseModule, options: dict[str, str]) -> dict[str, Any]:
    if module.modname == "resource":
        modicon = call.theme_url("core", "f/pdf") + "?filtericon=1"
    else:
        modicon = call.theme_url(module.modname, "monologo") + "?filtericon=1"
    entry: dict[str, Any] = {
        "id": module.id,
        "url": f"{call.wwwroot}/mod/{module.modname}/view.php?id={module.id}",
        "name": module.name,
        "instance": module.instance,
        "contextid": module.contextid,
        **({"description": module.description} if module.description else {}),
        "visible": module.visible,
        "uservisible": True,
        "visibleoncoursepage": 1,
        "modicon": modicon,
        "modname": module.modname,
        "purpose": _PURPOSE.get(module.modname, "other"),
        "branded": False,
        "modplural": _MODPLURAL.get(module.modname, module.modname),
        "availability": None,
        "indent": 0,
        "onclick": "",
        "afterlink": None,
        "customdata": _customdata(call, module),
        "noviewlink": False,
        "completion": 0,
        "downloadcontent": 1,
        "dates": _dates(call, module),
        "groupmode": 0,
    }
    if module.modname == "resource":
        resource = call.world.resources[module.instance]
        stored = resource.file
        entry["afterlink"] = f' <span class="resourcelinkdetails">{_display_size(stored.filesize)}</span>'
        entry["activitybadge"] = {"badgecontent": "PDF", "badgestyle": "badge-none"}
        if options.get("excludecontents") not in ("1", "true"):
            entry["contents"] = [
                {
                    "type": "file",
                    "filename": stored.filename,
                    "filepath": stored.filepath,
                    "filesize": stored.filesize,
                    "fileurl": call.pluginfile(
                        stored.contextid,
                        stored.component,
                        stored.filearea,
                        resource.revision,
                        stored.filepath,
                        stored.filename,
                    )
                    + "?forcedownload=1",
                    "timecreated": stored.timecreated,
                    "timemodified": stored.timemodified,
                    "sortorder": 1,
                    "mimetype": stored.mimetype,
                    "isexternalfile": False,
                    "userid": None,
                    "author": stored.author,
                    "license": stored.license,
                }
            ]
        entry["contentsinfo"] = {
            "filescount": 1,
            "filessize": stored.filesize,
            "lastmodified": stored.timemodified,
            "mimetypes": [stored.mimetype],
            "repositorytype": "",
        }
    return entry


_CONTENT_OPTIONS = {
    "excludemodules",
    "excludecontents",
    "includestealthmodules",
    "sectionid",
    "sectionnumber",
    "cmid",
    "modname",
    "modid",
}


def get_contents(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections and visible modules of a course."""
    world = call.world
    course = call.course(params["courseid"])
    options: dict[str, str] = {}
    for option in params["options"]:
        name = option["name"]
        if name not in _CONTENT_OPTIONS:
            raise MoodleError("errorinvalidparam", a=name)
        options[name] = str(option["value"])
    result = []
    for section in course.sections:
        if "sectionid" in options and str(section.id) != options["sectionid"]:
            continue
        if "sectionnumber" in options and str(section.section) != options["sectionnumber"]:
            continue
        modules = []
        if options.get("excludemodules") not in ("1", "true"):
            for cmid in section.modules:
                module = world.modules[cmid]
                if module.hidden_from_contents:
                    continue
                if "cmid" in options and str(cmid) != options["cmid"]:
                    continue
                if "modname" in options and module.modname != options["modname"]:
                    continue
                if "modid" in options and str(module.instance) != options["modid"]:
                    continue
                modules.append(_module_entry(call, module, options))
        result.append(
            {
                "id": section.id,
                "name": section.name,
                "visible": section.visible,
                "summary": call.format_text(section.summary, course.contextid, "course", "section", section.id),
                "summaryformat": 1,
                "section": section.section,
                "hiddenbynumsections": 0,
                "uservisible": True,
                "component": None,
                "itemid": None,
                "modules": modules,
            }
        )
    return result


FUNCTIONS = (
    ExternalFunction("core_course_get_categories", "core", _categories_params, _categories_returns, get_categories),
    ExternalFunction("core_course_get_courses", "core", _courses_params, _courses_returns, get_courses),
    ExternalFunction(
        "core_course_get_courses_by_field", "core", _by_field_params, _by_field_returns, get_courses_by_field
    ),
    ExternalFunction("core_course_get_contents", "core", _contents_params, _contents_returns, get_contents),
)

__all__ = ["FUNCTIONS", "fixed"]
