"""core_enrol_get_enrolled_users and core_user_get_users_by_field (contract §3.6, §3.7)."""

from __future__ import annotations

from typing import Any

from archived.simulator.data.model import Role, User
from archived.simulator.exceptions import MoodleError, invalid_parameter
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import (
    customfields_desc,
    enrolledcourses_desc,
    preferences_desc,
    roles_desc,
    user_keys,
)
from archived.simulator.paramtypes import ALPHA, ALPHANUMEXT, INT, RAW, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value

_USERFIELDS = {
    "id",
    "username",
    "fullname",
    "firstname",
    "lastname",
    "email",
    "address",
    "phone1",
    "phone2",
    "department",
    "institution",
    "interests",
    "firstaccess",
    "lastaccess",
    "auth",
    "confirmed",
    "idnumber",
    "lang",
    "theme",
    "timezone",
    "mailformat",
    "description",
    "descriptionformat",
    "city",
    "country",
    "profileimageurlsmall",
    "profileimageurl",
    "customfields",
    "groups",
    "roles",
    "preferences",
    "enrolledcourses",
    "suspended",
    "lastcourseaccess",
    "trackforums",
}
# Capabilities only students have (teachers preview quizzes and grade, but do not attempt or submit).
_STUDENT_CAPABILITIES = {"mod/quiz:attempt", "mod/assign:submit", "moodle/course:isincompletionreports"}


def user_details(call: Call, user: User) -> dict[str, Any]:
    """`user_get_user_details()` as seen by the archiver (it may view identity fields and full names)."""
    details: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "email": user.email,
    }
    if user.department:
        details["department"] = user.department
    if user.institution:
        details["institution"] = user.institution
    if user.idnumber and call.world.has_capability("moodle/site:viewuseridentity"):
        details["idnumber"] = user.idnumber
    details.update(firstaccess=0, lastaccess=0)
    if user.city:
        details["city"] = user.city
    if user.country:
        details["country"] = user.country
    details["profileimageurlsmall"] = call.user_picture("f2")
    details["profileimageurl"] = call.user_picture("f1")
    return details


# --- core_enrol_get_enrolled_users -------------------------------------------------------------------------
def _enrolled_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "courseid": value(INT),
            "options": multiple(single({"name": value(ALPHANUMEXT), "value": value(RAW)}), default=[]),
        }
    )


def _enrolled_returns(profile: ReleaseProfile) -> Desc:
    keys = user_keys(with_auth=False, with_trackforums=False)
    keys.pop("suspended")
    ordered: dict[str, Desc] = {}
    for key, desc in keys.items():
        ordered[key] = desc
        if key == "lastaccess":
            ordered["lastcourseaccess"] = value(INT, opt=True)
    ordered["profileimageurlsmall"] = value(URL, opt=True)
    ordered["profileimageurl"] = value(URL, opt=True)
    ordered["customfields"] = customfields_desc()
    ordered["groups"] = multiple(
        single({"id": value(INT), "name": value(RAW), "description": value(RAW), "descriptionformat": value(INT)}),
        opt=True,
    )
    ordered["roles"] = roles_desc()
    ordered["preferences"] = preferences_desc()
    ordered["enrolledcourses"] = enrolledcourses_desc()
    return multiple(single(ordered))


def _has_course_capability(role: Role, capability: str) -> bool:
    if role.shortname == "student":
        return capability in _STUDENT_CAPABILITIES
    return capability not in _STUDENT_CAPABILITIES


def get_enrolled_users(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Enrolled users with the visible profile fields, filtered and paged by `options`."""
    world = call.world
    course = call.course(params["courseid"])
    call.require("moodle/course:viewparticipants", "View participants")
    options = {option["name"]: str(option["value"]) for option in params["options"]}
    userfields: set[str] | None = None
    if "userfields" in options:
        userfields = {"id", "fullname"}
        for name in (part.strip() for part in options["userfields"].split(",")):
            if name not in _USERFIELDS:
                raise MoodleError("invaliduserfield", a=name)
            userfields.add(name)
    members = world.course_users(course.id)
    if "withcapability" in options:
        members = [(u, r) for u, r in members if _has_course_capability(r, options["withcapability"])]
    if "groupid" in options:
        group = world.groups.get(int(options["groupid"] or 0))
        members = [(u, r) for u, r in members if group is not None and u.id in group.members]
    sortby = options.get("sortby", "id")
    if sortby not in ("id", "firstname", "lastname", "siteorder"):
        raise invalid_parameter("Invalid value for sortby parameter (value: " + sortby + ")")
    direction = options.get("sortdirection", "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise invalid_parameter("Invalid value for sortdirection parameter (value: " + direction + ")")
    key = {
        "id": lambda m: m[0].id,
        "siteorder": lambda m: m[0].id,
        "firstname": lambda m: m[0].firstname,
        "lastname": lambda m: m[0].lastname,
    }[sortby]
    members.sort(key=key, reverse=direction == "DESC")
    start = int(options.get("limitfrom", "0") or 0)
    limit = int(options.get("limitnumber", "0") or 0)
    members = members[start : start + limit] if limit else members[start:]
    result = []
    for user, role in members:
        entry = user_details(call, user)
        entry["lastcourseaccess"] = 0
        groups = world.user_groups(course.id, user.id)
        if groups:
            entry["groups"] = [
                {"id": g.id, "name": g.name, "description": g.description, "descriptionformat": g.descriptionformat}
                for g in groups
            ]
        entry["roles"] = [{"roleid": role.roleid, "name": "", "shortname": role.shortname, "sortorder": 0}]
        entry["enrolledcourses"] = [
            {"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in world.user_courses(user.id)
        ]
        if userfields is not None:
            entry = {k: v for k, v in entry.items() if k in userfields}
        result.append(entry)
    return result


# --- core_user_get_users_by_field --------------------------------------------------------------------------
def _by_field_params(profile: ReleaseProfile) -> Single:
    return single({"field": value(ALPHA), "values": multiple(value(RAW))})


def _by_field_returns(profile: ReleaseProfile) -> Desc:
    keys = user_keys(with_auth=True, with_trackforums=profile.at_least(4, 2))
    keys["profileimageurlsmall"] = value(URL)
    keys["profileimageurl"] = value(URL)
    keys["customfields"] = customfields_desc()
    keys["preferences"] = preferences_desc()
    return multiple(single(keys))


def get_users_by_field(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Users whose `field` equals one of `values`; only users whose field the caller may see."""
    field = params["field"]
    if field not in ("id", "idnumber", "username", "email"):
        raise MoodleError("codingerror", base="coding_exception", a="invalid field parameter")
    wanted = {str(v) for v in params["values"]}
    found = []
    for user in sorted(call.world.users.values(), key=lambda u: u.id):
        if str(getattr(user, field)) not in wanted or not str(getattr(user, field)):
            continue
        entry = user_details(call, user)
        if field not in entry:
            continue
        entry.update(
            auth=user.auth,
            suspended=user.suspended,
            confirmed=True,
            lang=user.lang,
            theme="",
            timezone="99",
            mailformat=1,
            trackforums=0,
        )
        found.append(entry)
    return found


FUNCTIONS = (
    ExternalFunction("core_enrol_get_enrolled_users", "core", _enrolled_params, _enrolled_returns, get_enrolled_users),
    ExternalFunction("core_user_get_users_by_field", "core", _by_field_params, _by_field_returns, get_users_by_field),
)
