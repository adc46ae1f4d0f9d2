"""Return structures shared by several functions: warnings, external_files, user descriptions."""

from __future__ import annotations

from typing import Any

from archived.simulator.paramtypes import ALPHANUM, BOOL, INT, PATH, RAW, TEXT, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value


def warnings_desc() -> Desc:
    """`external_warnings`."""
    return multiple(
        single(
            {
                "item": value(TEXT, opt=True),
                "itemid": value(INT, opt=True),
                "warningcode": value(ALPHANUM),
                "message": value(TEXT),
            }
        ),
        opt=True,
    )


def warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    """One warning entry."""
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


def external_files(profile: ReleaseProfile) -> Desc:
    """`external_files` (the `icon` key exists from 4.4)."""
    keys: dict[str, Desc] = {
        "filename": value(RAW, opt=True),
        "filepath": value(PATH, opt=True),
        "filesize": value(INT, opt=True),
        "fileurl": value(URL, opt=True),
        "timemodified": value(INT, opt=True),
        "mimetype": value(RAW, opt=True),
        "isexternalfile": value(BOOL, opt=True),
        "repositorytype": value(RAW, opt=True),
    }
    if profile.at_least(4, 4):
        keys["icon"] = value(RAW, opt=True)
    return multiple(single(keys), opt=True)


def file_icon(mimetype: str) -> str:
    """The file-type icon path `get_mimetype_icon` gives (`f/pdf`, `f/unknown`, ...)."""
    return {"application/pdf": "f/pdf", "image/png": "f/image", "image/jpeg": "f/image"}.get(mimetype, "f/unknown")


def mimetype_description(mimetype: str) -> str:
    """The human file type name shown in icons' alt texts."""
    return {"application/pdf": "PDF document", "image/png": "Image (PNG)"}.get(mimetype, "File")


def user_keys(*, with_auth: bool, with_trackforums: bool) -> dict[str, Desc]:
    """The leading keys of `user_description()` up to `country`."""
    keys: dict[str, Desc] = {
        "id": value(INT),
        "username": value(RAW, opt=True),
        "firstname": value(TEXT, opt=True),
        "lastname": value(TEXT, opt=True),
        "fullname": value(TEXT),
        "email": value(TEXT, opt=True),
        "address": value(TEXT, opt=True),
        "phone1": value(TEXT, opt=True),
        "phone2": value(TEXT, opt=True),
        "department": value(TEXT, opt=True),
        "institution": value(TEXT, opt=True),
        "idnumber": value(RAW, opt=True),
        "interests": value(TEXT, opt=True),
        "firstaccess": value(INT, opt=True),
        "lastaccess": value(INT, opt=True),
    }
    if with_auth:
        keys.update(
            {
                "auth": value(RAW, opt=True),
                "suspended": value(BOOL, opt=True),
                "confirmed": value(BOOL, opt=True),
                "lang": value(RAW, opt=True),
                "calendartype": value(RAW, opt=True),
                "theme": value(RAW, opt=True),
                "timezone": value(RAW, opt=True),
                "mailformat": value(INT, opt=True),
            }
        )
    else:
        keys["suspended"] = value(BOOL, opt=True)
    if with_trackforums:
        keys["trackforums"] = value(INT, opt=True)
    keys.update(
        {
            "description": value(RAW, opt=True),
            "descriptionformat": value(INT, opt=True),
            "city": value(RAW, opt=True),
            "country": value(RAW, opt=True),
        }
    )
    return keys


def customfields_desc() -> Desc:
    """User custom profile fields."""
    return multiple(
        single({"type": value(RAW), "value": value(RAW), "name": value(RAW), "shortname": value(RAW)}), opt=True
    )


def preferences_desc() -> Desc:
    """User preferences."""
    return multiple(single({"name": value(RAW), "value": value(RAW)}), opt=True)


def roles_desc() -> Desc:
    """Role assignments of a user in a course."""
    return multiple(
        single({"roleid": value(INT), "name": value(RAW), "shortname": value(RAW), "sortorder": value(INT)}), opt=True
    )


def enrolledcourses_desc() -> Desc:
    """Courses a user is enrolled in."""
    return multiple(single({"id": value(INT), "fullname": value(RAW), "shortname": value(RAW)}), opt=True)


def structure(keys: dict[str, Desc]) -> Single:
    """A required single structure (readability helper for the function modules)."""
    return single(keys)
