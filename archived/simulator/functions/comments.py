"""core_comment_get_comments: one page of a comment area (e.g. the submission comments of an assignment
submission), as `comment/externallib.php` answers it. A function Moodle has but the recorded archiver service
does not list (the assignment showcase adds it).

Pages hold `$CFG->commentsperpage` comments (`World.comments_perpage`, 15 by default); `count` is the total.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from archived.simulator.exceptions import MoodleError, missing_row
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import warnings_desc
from archived.simulator.paramtypes import ALPHA, AREA, BOOL, COMPONENT, INT, NOTAGS, RAW, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value

VIEW = "moodle/comment:view"


def _params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "contextlevel": value(ALPHA),
            "instanceid": value(INT),
            "component": value(COMPONENT),
            "itemid": value(INT),
            "area": value(AREA, default=""),
            "page": value(INT, default=0),
            "sortdirection": value(ALPHA, default="DESC"),
        }
    )


def _returns(profile: ReleaseProfile) -> Desc:
    comment = single(
        {
            "id": value(INT),
            "content": value(RAW),
            "format": value(INT),
            "timecreated": value(INT),
            "strftimeformat": value(NOTAGS),
            "profileurl": value(URL),
            "fullname": value(NOTAGS),
            "time": value(NOTAGS),
            "avatar": value(RAW),
            "userid": value(INT),
            "delete": value(BOOL, opt=True),
        }
    )
    return single(
        {
            "comments": multiple(comment),
            "count": value(INT, opt=True),
            "perpage": value(INT, opt=True),
            "canpost": value(BOOL, opt=True),
            "warnings": warnings_desc(),
        }
    )


def get_comments(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """One page of the comments of an item, oldest or newest first."""
    world = call.world
    direction = params["sortdirection"].upper()
    if direction not in ("ASC", "DESC"):
        raise MoodleError(
            "invalidparameter",
            base="invalid_parameter_exception",
            debuginfo=f"Invalid value for sortdirection parameter (value: {direction}),allowed values are: ASC,DESC",
        )
    if params["contextlevel"] != "module":
        raise MoodleError("invalidparameter", base="invalid_parameter_exception", debuginfo="contextlevel")
    module = world.modules.get(params["instanceid"])
    if module is None:
        raise missing_row("course_modules", params["instanceid"])
    call.require(VIEW, "view comments")
    found = [
        c
        for c in world.comments
        if (c.contextid, c.component, c.commentarea, c.itemid)
        == (module.contextid, params["component"], params["area"], params["itemid"])
    ]
    found.sort(key=lambda c: (c.timecreated, c.id), reverse=direction == "DESC")
    perpage = world.comments_perpage
    page = found[params["page"] * perpage : (params["page"] + 1) * perpage]
    comments = []
    for comment in page:
        user = world.users.get(comment.userid)
        fullname = f"{user.firstname} {user.lastname}" if user is not None else ""
        shown = datetime.fromtimestamp(comment.timecreated, UTC).strftime("%A, %d %B %Y, %I:%M %p")
        comments.append(
            {
                "id": comment.id,
                "content": call.format_text(comment.content, module.contextid, comment.component, "", None),
                "format": 1,
                "timecreated": comment.timecreated,
                "strftimeformat": "%A, %d %B %Y, %I:%M %p",
                "profileurl": f"{call.wwwroot}/user/view.php?id={comment.userid}&course={module.course}",
                "fullname": fullname,
                "time": shown,
                "avatar": f'<img src="{call.user_picture("f2")}" class="userpicture" alt="{escape(fullname)}">',
                "userid": comment.userid,
                "delete": False,
            }
        )
    return {"comments": comments, "count": len(found), "perpage": perpage, "canpost": False, "warnings": []}


FUNCTIONS = (ExternalFunction("core_comment_get_comments", "core", _params, _returns, get_comments),)
