"""mod_assign: assignments, submissions, grades, submission status and participants (contract §3.14–3.18)."""

from __future__ import annotations

from typing import Any

from archived.simulator.data.model import Assign, AssignGrade, Submission
from archived.simulator.exceptions import MissingRecord, MoodleError, missing_row
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import (
    customfields_desc,
    enrolledcourses_desc,
    external_files,
    file_icon,
    preferences_desc,
    roles_desc,
    user_keys,
    warning,
    warnings_desc,
)
from archived.simulator.functions.users import user_details
from archived.simulator.paramtypes import ALPHA, BOOL, CAPABILITY, INT, RAW, TEXT, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value
from archived.simulator.storedfile import StoredFile


def _assign_or_fail(call: Call, assignid: int) -> Assign:
    assign = call.world.assigns.get(assignid)
    if assign is None:
        raise missing_row("assign", assignid)
    return assign


def _files(call: Call, files: list[StoredFile]) -> list[dict[str, Any]]:
    return [
        {
            "filename": stored.filename,
            "filepath": stored.filepath,
            "filesize": stored.filesize,
            "fileurl": call.pluginfile(
                stored.contextid, stored.component, stored.filearea, stored.itemid, stored.filepath, stored.filename
            ),
            "timemodified": stored.timemodified,
            "mimetype": stored.mimetype,
            "isexternalfile": False,
            "icon": file_icon(stored.mimetype),
        }
        for stored in files
    ]


def _plugin_desc(profile: ReleaseProfile) -> Desc:
    return multiple(
        single(
            {
                "type": value(TEXT),
                "name": value(TEXT),
                "fileareas": multiple(single({"area": value(TEXT), "files": external_files(profile)}), opt=True),
                "editorfields": multiple(
                    single({"name": value(TEXT), "description": value(TEXT), "text": value(RAW), "format": value(INT)}),
                    opt=True,
                ),
            }
        ),
        opt=True,
    )


def _submission_desc(profile: ReleaseProfile, *, opt: bool = False) -> Single:
    return single(
        {
            "id": value(INT),
            "userid": value(INT),
            "attemptnumber": value(INT),
            "timecreated": value(INT),
            "timemodified": value(INT),
            "timestarted": value(INT, opt=True),
            "status": value(TEXT),
            "groupid": value(INT),
            "assignment": value(INT, opt=True),
            "latest": value(INT, opt=True),
            "plugins": _plugin_desc(profile),
            "gradingstatus": value(ALPHA, opt=True),
        },
        opt=opt,
    )


def _grade_desc(*, opt: bool = False) -> Single:
    return single(
        {
            "id": value(INT),
            "assignment": value(INT, opt=True),
            "userid": value(INT),
            "attemptnumber": value(INT),
            "timecreated": value(INT),
            "timemodified": value(INT),
            "grader": value(INT),
            "grade": value(TEXT),
            "gradefordisplay": value(RAW, opt=True),
        },
        opt=opt,
    )


def _submission_plugins(call: Call, assign: Assign, submission: Submission) -> list[dict[str, Any]]:
    return [
        {
            "type": "onlinetext",
            "name": "Online text",
            "fileareas": [{"area": "submissions_onlinetext", "files": []}],
            "editorfields": [
                {
                    "name": "onlinetext",
                    "description": "Online text submissions",
                    "text": call.format_text(
                        submission.onlinetext,
                        assign.contextid,
                        "assignsubmission_onlinetext",
                        "submissions_onlinetext",
                        submission.id,
                    ),
                    "format": 1,
                }
            ],
        },
        {
            "type": "file",
            "name": "File submissions",
            "fileareas": [{"area": "submission_files", "files": _files(call, submission.files)}],
        },
        {"type": "comments", "name": "Submission comments"},
    ]


def _gradingstatus(call: Call, assign: Assign, userid: int) -> str:
    return "graded" if userid in call.world.assign_grades.get(assign.id, {}) else "notgraded"


def _submission_entry(call: Call, assign: Assign, submission: Submission, *, raw: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": submission.id,
        "userid": submission.userid,
        "attemptnumber": submission.attemptnumber,
        "timecreated": submission.timecreated,
        "timemodified": submission.timemodified,
        "timestarted": None,
        "status": submission.status,
        "groupid": submission.groupid,
        "plugins": _submission_plugins(call, assign, submission),
    }
    if raw:
        entry.update(assignment=assign.id, latest=1)
    else:
        entry["gradingstatus"] = _gradingstatus(call, assign, submission.userid)
    return entry


def _grade_entry(grade: AssignGrade, *, with_assignment: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": grade.id,
        "userid": grade.userid,
        "attemptnumber": grade.attemptnumber,
        "timecreated": grade.timecreated,
        "timemodified": grade.timemodified,
        "grader": grade.grader,
        "grade": f"{grade.grade:.5f}",
    }
    if with_assignment:
        entry["assignment"] = grade.assignment
    return entry


def _can_view_grades(call: Call) -> bool:
    return call.world.has_capability("mod/assign:viewgrades") or call.world.has_capability("mod/assign:grade")


# --- mod_assign_get_assignments ----------------------------------------------------------------------------
def _assignments_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "courseids": multiple(value(INT), default=[]),
            "capabilities": multiple(value(CAPABILITY), default=[]),
            "includenotenrolledcourses": value(BOOL, default=False),
        }
    )


def _assignments_returns(profile: ReleaseProfile) -> Desc:
    files = external_files(profile)
    keys: dict[str, Desc] = {"id": value(INT), "cmid": value(INT), "course": value(INT), "name": value(RAW)}
    for name in (
        "nosubmissions",
        "submissiondrafts",
        "sendnotifications",
        "sendlatenotifications",
        "sendstudentnotifications",
        "duedate",
        "allowsubmissionsfromdate",
        "grade",
    ):
        keys[name] = value(INT)
    if profile.has_gradepenalty:
        keys["gradepenalty"] = value(INT)
    for name in (
        "timemodified",
        "completionsubmit",
        "cutoffdate",
        "gradingduedate",
        "teamsubmission",
        "requireallteammemberssubmit",
        "teamsubmissiongroupingid",
        "blindmarking",
        "hidegrader",
        "revealidentities",
    ):
        keys[name] = value(INT)
    keys["attemptreopenmethod"] = value(TEXT)
    for name in ("maxattempts", "markingworkflow", "markingallocation"):
        keys[name] = value(INT)
    if profile.at_least(4, 4):
        keys["markinganonymous"] = value(INT)
    keys["requiresubmissionstatement"] = value(INT)
    keys["preventsubmissionnotingroup"] = value(INT, opt=True)
    keys["submissionstatement"] = value(RAW, opt=True)
    keys["submissionstatementformat"] = value(INT, opt=True)
    keys["configs"] = multiple(
        single(
            {
                "id": value(INT, opt=True),
                "assignment": value(INT, opt=True),
                "plugin": value(TEXT),
                "subtype": value(TEXT),
                "name": value(TEXT),
                "value": value(TEXT),
            }
        )
    )
    keys["intro"] = value(RAW, opt=True)
    keys["introformat"] = value(INT, opt=True)
    keys["introfiles"] = files
    keys["introattachments"] = files
    keys["activity"] = value(RAW, opt=True)
    keys["activityformat"] = value(INT, opt=True)
    keys["activityattachments"] = files
    keys["timelimit"] = value(INT, opt=True)
    keys["submissionattachments"] = value(INT, opt=True)
    course = single(
        {
            "id": value(INT),
            "fullname": value(RAW),
            "shortname": value(RAW),
            "timemodified": value(INT),
            "assignments": multiple(single(keys)),
        }
    )
    return single({"courses": multiple(course), "warnings": warnings_desc()})


def _configs(assign: Assign) -> list[dict[str, str]]:
    rows = [
        ("onlinetext", "assignsubmission", "enabled", "1"),
        ("onlinetext", "assignsubmission", "wordlimit", "0"),
        ("onlinetext", "assignsubmission", "wordlimitenabled", "0"),
        ("file", "assignsubmission", "enabled", "1"),
        ("file", "assignsubmission", "maxfilesubmissions", str(assign.maxfiles)),
        ("file", "assignsubmission", "maxsubmissionsizebytes", str(assign.maxbytes)),
        ("file", "assignsubmission", "filetypeslist", ""),
        ("comments", "assignsubmission", "enabled", "0"),
        ("comments", "assignfeedback", "enabled", "1"),
        ("comments", "assignfeedback", "commentinline", "0"),
        ("file", "assignfeedback", "enabled", "1"),
        *([("editpdf", "assignfeedback", "enabled", "1")] if assign.editpdf else []),
    ]
    return [{"plugin": p, "subtype": s, "name": n, "value": v} for p, s, n, v in rows]


def _assignment_entry(call: Call, assign: Assign) -> dict[str, Any]:
    return {
        "id": assign.id,
        "cmid": assign.cmid,
        "course": assign.course,
        "name": assign.name,
        "nosubmissions": 0,
        "submissiondrafts": assign.submissiondrafts,
        "sendnotifications": 0,
        "sendlatenotifications": 0,
        "sendstudentnotifications": 1,
        "duedate": assign.duedate,
        "allowsubmissionsfromdate": assign.allowsubmissionsfromdate,
        "grade": assign.grade,
        "gradepenalty": assign.gradepenalty,
        "timemodified": assign.timemodified,
        "completionsubmit": 0,
        "cutoffdate": 0,
        "gradingduedate": assign.gradingduedate,
        "teamsubmission": assign.teamsubmission,
        "requireallteammemberssubmit": 0,
        "teamsubmissiongroupingid": 0,
        "blindmarking": assign.blindmarking,
        "hidegrader": 0,
        "revealidentities": 0,
        "attemptreopenmethod": "untilpass" if call.profile.at_least(4, 5) else "none",
        "maxattempts": 1 if call.profile.at_least(4, 5) else -1,
        "markingworkflow": 0,
        "markingallocation": 0,
        "markinganonymous": 0,
        "requiresubmissionstatement": 0,
        "preventsubmissionnotingroup": 0,
        "configs": _configs(assign),
        "intro": call.format_text(assign.intro, assign.contextid, "mod_assign", "intro", None),
        "introformat": 1,
        "introfiles": [],
        "introattachments": [],
        "timelimit": 0,
        "submissionattachments": 0,
    }


def get_assignments(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Assignments per course; courses the service user is not enrolled in need `includenotenrolledcourses`."""
    world = call.world
    courses, warnings = [], []
    for courseid in params["courseids"]:
        course = world.courses.get(courseid)
        enrolled = course is not None and call.userid in world.enrolments.get(courseid, {})
        if course is None:
            warnings.append(warning("course", courseid, "1", "No access rights in course context"))
            continue
        if not enrolled and not params["includenotenrolledcourses"]:
            warnings.append(
                warning("course", courseid, "2", "User is not enrolled or does not have requested capability")
            )
            continue
        assignments = [
            _assignment_entry(call, a)
            for a in sorted(world.assigns.values(), key=lambda a: a.id)
            if a.course == courseid
        ]
        courses.append(
            {
                "id": course.id,
                "fullname": course.fullname,
                "shortname": course.shortname,
                "timemodified": course.timemodified,
                "assignments": assignments,
            }
        )
    return {"courses": courses, "warnings": warnings}


# --- mod_assign_get_submissions / get_grades ---------------------------------------------------------------
def _submissions_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "assignmentids": multiple(value(INT)),
            "status": value(ALPHA, default=""),
            "since": value(INT, default=0),
            "before": value(INT, default=0),
        }
    )


def _submissions_returns(profile: ReleaseProfile) -> Desc:
    return single(
        {
            "assignments": multiple(
                single({"assignmentid": value(INT), "submissions": multiple(_submission_desc(profile))})
            ),
            "warnings": warnings_desc(),
        }
    )


def get_submissions(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Latest submission per user of each assignment (needs viewgrades or grade)."""
    world = call.world
    assignments, warnings = [], []
    for assignid in params["assignmentids"]:
        assign = world.assigns.get(assignid)
        if assign is None or not _can_view_grades(call):
            warnings.append(warning("assignment", assignid, "1", "No access rights in module context"))
            continue
        rows = []
        enrolled = world.enrolments.get(assign.course, {})
        for userid in sorted(world.submissions.get(assignid, {})):
            submission = world.submissions[assignid][userid]
            if submission.userid and submission.userid not in enrolled:
                continue  # Moodle drops the submissions of users whose enrolment was removed, silently
            if params["status"] and submission.status != params["status"]:
                continue
            if params["before"]:
                if not params["since"] <= submission.timemodified <= params["before"]:
                    continue
            elif submission.timemodified < params["since"]:
                continue
            rows.append(_submission_entry(call, assign, submission, raw=False))
        if not rows:
            warnings.append(warning("module", assignid, "3", "No submissions found"))
        assignments.append({"assignmentid": assignid, "submissions": rows})
    return {"assignments": assignments, "warnings": warnings}


def _grades_params(profile: ReleaseProfile) -> Single:
    return single({"assignmentids": multiple(value(INT)), "since": value(INT, default=0)})


def _grades_returns(profile: ReleaseProfile) -> Desc:
    return single(
        {
            "assignments": multiple(single({"assignmentid": value(INT), "grades": multiple(_grade_desc())})),
            "warnings": warnings_desc(),
        }
    )


def get_grades(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Grades of the latest attempts (`grade` is the raw DB decimal as a string)."""
    world = call.world
    assignments, warnings = [], []
    for assignid in params["assignmentids"]:
        if assignid not in world.assigns or not _can_view_grades(call):
            warnings.append(warning("assignment", assignid, "1", "No access rights in module context"))
            continue
        grades = [
            _grade_entry(g, with_assignment=False)
            for _, g in sorted(world.assign_grades.get(assignid, {}).items())
            if g.timemodified >= params["since"]
        ]
        if not grades:
            warnings.append(warning("assignment", assignid, "3", "No grades found"))
            continue
        assignments.append({"assignmentid": assignid, "grades": grades})
    return {"assignments": assignments, "warnings": warnings}


# --- mod_assign_get_submission_status ----------------------------------------------------------------------
def _status_params(profile: ReleaseProfile) -> Single:
    return single({"assignid": value(INT), "userid": value(INT, default=0), "groupid": value(INT, default=0)})


def _status_returns(profile: ReleaseProfile) -> Desc:
    files = external_files(profile)
    return single(
        {
            "gradingsummary": single(
                {
                    "participantcount": value(INT),
                    "submissiondraftscount": value(INT),
                    "submissionsenabled": value(BOOL),
                    "submissionssubmittedcount": value(INT),
                    "submissionsneedgradingcount": value(INT),
                    "warnofungroupedusers": value(RAW),
                },
                opt=True,
            ),
            "lastattempt": single(
                {
                    "submission": _submission_desc(profile, opt=True),
                    "teamsubmission": _submission_desc(profile, opt=True),
                    "submissiongroup": value(INT, opt=True),
                    "submissiongroupmemberswhoneedtosubmit": multiple(value(INT), opt=True),
                    "submissionsenabled": value(BOOL),
                    "locked": value(BOOL),
                    "graded": value(BOOL),
                    "canedit": value(BOOL),
                    "caneditowner": value(BOOL),
                    "cansubmit": value(BOOL),
                    "extensionduedate": value(INT),
                    "timelimit": value(INT, opt=True),
                    "blindmarking": value(BOOL),
                    "gradingstatus": value(ALPHA),
                    "usergroups": multiple(value(INT)),
                },
                opt=True,
            ),
            "feedback": single(
                {
                    "grade": _grade_desc(opt=True),
                    "gradefordisplay": value(RAW),
                    "gradeddate": value(INT),
                    "plugins": _plugin_desc(profile),
                },
                opt=True,
            ),
            "previousattempts": multiple(
                single(
                    {
                        "attemptnumber": value(INT),
                        "submission": _submission_desc(profile, opt=True),
                        "grade": _grade_desc(opt=True),
                        "feedbackplugins": _plugin_desc(profile),
                    }
                ),
                opt=True,
            ),
            "assignmentdata": single(
                {
                    "attachments": single({"intro": files, "activity": files}, opt=True),
                    "activity": value(RAW, opt=True),
                    "activityformat": value(INT, opt=True),
                },
                opt=True,
            ),
            "warnings": warnings_desc(),
        }
    )


def _students(call: Call, assign: Assign) -> list[int]:
    return [u.id for u, role in call.world.course_users(assign.course) if role.shortname == "student"]


def get_submission_status(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Grading summary, the user's last attempt, feedback and assignment data."""
    world = call.world
    assign = _assign_or_fail(call, params["assignid"])
    userid = params["userid"] or call.userid
    if userid not in world.users:
        raise MissingRecord("user", "SELECT * FROM {user} WHERE id = ? AND deleted = ?", [userid, 0])
    if userid not in world.enrolments.get(assign.course, {}) or not (userid == call.userid or _can_view_grades(call)):
        raise MoodleError("nopermission", base="required_capability_exception")
    submissions = world.submissions.get(assign.id, {})
    grades = world.assign_grades.get(assign.id, {})
    students = _students(call, assign)
    submitted = [s for uid, s in submissions.items() if uid in students and s.status == "submitted"]
    needs_grading = [s for s in submitted if s.userid not in grades or grades[s.userid].timemodified < s.timemodified]
    result: dict[str, Any] = {
        "gradingsummary": {
            "participantcount": len(students),
            "submissiondraftscount": sum(1 for s in submissions.values() if s.status == "draft"),
            "submissionsenabled": True,
            "submissionssubmittedcount": len(submitted),
            "submissionsneedgradingcount": len(needs_grading),
            "warnofungroupedusers": "",
        },
        "warnings": [],
    }
    submission = submissions.get(userid)
    grade = grades.get(userid)
    team = _team_submission(call, assign, userid)
    if team is not None:
        submission = None
    draft = submission is not None and submission.status == "draft"
    lastattempt: dict[str, Any] = {
        "submissiongroupmemberswhoneedtosubmit": [],
        "submissionsenabled": True,
        "locked": False,
        "graded": grade is not None,
        "canedit": False,
        "caneditowner": draft or submission is None,
        "cansubmit": draft,
        "extensionduedate": 0 if grade is not None else None,
        "timelimit": 0,
        "blindmarking": bool(assign.blindmarking),
        "gradingstatus": "graded" if grade is not None else "notgraded",
        "usergroups": [g.id for g in world.user_groups(assign.course, userid)],
    }
    if submission is not None:
        lastattempt["submission"] = _submission_entry(call, assign, submission, raw=True)
    if team is not None:
        lastattempt["teamsubmission"] = _submission_entry(call, assign, team, raw=True)
        lastattempt["submissiongroup"] = team.groupid
    result["lastattempt"] = lastattempt
    if grade is not None:
        result["feedback"] = {
            "grade": _grade_entry(grade, with_assignment=True),
            "gradefordisplay": _grade_for_display(call, assign, grade),
            "gradeddate": grade.gradeddate,
            "plugins": _feedback_plugins(call, assign, grade),
        }
    if submission is not None and submission.previous:
        result["previousattempts"] = [
            {
                "attemptnumber": old.attemptnumber,
                "submission": _submission_entry(call, assign, old, raw=True),
                **({"grade": _grade_entry(old_grade, with_assignment=True)} if old_grade else {}),
                "feedbackplugins": _feedback_plugins(call, assign, old_grade) if old_grade else [],
            }
            for old, old_grade in reversed(submission.previous)  # newest first, as Moodle lists them
        ]
    result["assignmentdata"] = {"attachments": {"intro": []}}
    return result


def _team_submission(call: Call, assign: Assign, userid: int) -> Submission | None:
    """The submission of the user's team (stored under the negated group id), when the assignment has teams."""
    if not assign.teamsubmission:
        return None
    for group in call.world.user_groups(assign.course, userid):
        found = call.world.submissions.get(assign.id, {}).get(-group.id)
        if found is not None:
            return found
    return None


def _grade_for_display(call: Call, assign: Assign, grade: AssignGrade) -> str:
    """The gradebook's display: points out of the maximum (on 5.0 after a late penalty), or the scale item."""
    if assign.grade < 0 and assign.scale:
        index = int(grade.grade) - 1
        return assign.scale[index] if 0 <= index < len(assign.scale) else "-"
    shown = grade.grade - grade.penalty if call.profile.has_gradepenalty and assign.gradepenalty else grade.grade
    return f"{shown:.2f}&nbsp;/&nbsp;{float(assign.grade):.2f}"


def _feedback_plugins(call: Call, assign: Assign, grade: AssignGrade) -> list[dict[str, Any]]:
    """Feedback comments, the annotated PDF (when Annotate PDF is on) and feedback files, as 5.0 lists them."""
    plugins: list[dict[str, Any]] = [
        {
            "type": "comments",
            "name": "Feedback comments",
            "fileareas": [{"area": "feedback", "files": []}],
            "editorfields": [
                {
                    "name": "comments",
                    "description": "Feedback comments",
                    "text": call.format_text(
                        grade.feedback, assign.contextid, "assignfeedback_comments", "feedback", grade.id
                    ),
                    "format": 1,
                }
            ],
        },
    ]
    if assign.editpdf:
        areas = ["download", "combined", "partial", "importhtml", "pages", "readonlypages", "stamps",
                 "tmp_jpg_to_pdf", "tmp_rotated_jpg"]  # fmt: skip
        plugins.append(
            {
                "type": "editpdf",
                "name": "Annotate PDF",
                "fileareas": [
                    {"area": area, "files": _files(call, grade.annotated_files) if area == "download" else []}
                    for area in areas
                ],
            }
        )
    plugins.append(
        {
            "type": "file",
            "name": "Feedback files",
            "fileareas": [{"area": "feedback_files", "files": _files(call, grade.feedback_files)}],
        }
    )
    return plugins


# --- mod_assign_list_participants --------------------------------------------------------------------------
def _participants_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "assignid": value(INT),
            "groupid": value(INT),
            "filter": value(RAW),
            "skip": value(INT, default=0),
            "limit": value(INT, default=0),
            "onlyids": value(BOOL, default=False),
            "includeenrolments": value(BOOL, default=True),
            "tablesort": value(BOOL, default=False),
        }
    )


def _participants_returns(profile: ReleaseProfile) -> Desc:
    keys = user_keys(with_auth=False, with_trackforums=True)
    keys["profileimageurlsmall"] = value(URL, opt=True)
    keys["profileimageurl"] = value(URL, opt=True)
    keys["customfields"] = customfields_desc()
    keys["preferences"] = preferences_desc()
    keys["recordid"] = value(INT)
    keys["groups"] = multiple(single({"id": value(INT), "name": value(RAW), "description": value(RAW)}), opt=True)
    keys["roles"] = roles_desc()
    keys["enrolledcourses"] = enrolledcourses_desc()
    keys["submitted"] = value(BOOL)
    keys["requiregrading"] = value(BOOL)
    keys["grantedextension"] = value(BOOL)
    keys["submissionstatus"] = value(ALPHA, opt=True)
    keys["groupid"] = value(INT, opt=True)
    keys["groupname"] = value(TEXT, opt=True)
    return multiple(single(keys))


def list_participants(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Students of the assignment with their submission flags; `filter` matches the full name."""
    world = call.world
    assign = _assign_or_fail(call, params["assignid"])
    if not _can_view_grades(call):
        raise MoodleError("nopermission", base="required_capability_exception")
    submissions = world.submissions.get(assign.id, {})
    grades = world.assign_grades.get(assign.id, {})
    rows = []
    needle = str(params["filter"]).lower()
    for user, role in world.course_users(assign.course):
        if role.shortname != "student":
            continue
        group = world.groups.get(params["groupid"])
        if params["groupid"] and (group is None or user.id not in group.members):
            continue
        if needle and needle not in user.fullname.lower():
            continue
        submission = submissions.get(user.id)
        status = submission.status if submission else ""
        if params["onlyids"] or assign.blindmarking:  # blind marking: identities are not looked up
            entry: dict[str, Any] = {"id": user.id, "fullname": user.fullname}
        else:
            entry = user_details(call, user)
            entry.update(suspended=user.suspended, trackforums=0)
            entry["groups"] = [
                {"id": g.id, "name": g.name, "description": g.description}
                for g in world.user_groups(assign.course, user.id)
            ]
            entry["roles"] = [{"roleid": role.roleid, "name": "", "shortname": role.shortname, "sortorder": 0}]
            if params["includeenrolments"]:
                entry["enrolledcourses"] = [
                    {"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in world.user_courses(user.id)
                ]
        grade = grades.get(user.id)
        entry.update(
            recordid=-1,
            submitted=status == "submitted",
            requiregrading=submission is not None
            and status == "submitted"
            and (grade is None or grade.timemodified < submission.timemodified),
            grantedextension=False,
            submissionstatus=status,
        )
        rows.append(entry)
    start, limit = params["skip"], params["limit"]
    return rows[start : start + limit] if limit else rows[start:]


FUNCTIONS = (
    ExternalFunction(
        "mod_assign_get_assignments", "mod_assign", _assignments_params, _assignments_returns, get_assignments
    ),
    ExternalFunction(
        "mod_assign_get_submissions", "mod_assign", _submissions_params, _submissions_returns, get_submissions
    ),
    ExternalFunction("mod_assign_get_grades", "mod_assign", _grades_params, _grades_returns, get_grades),
    ExternalFunction(
        "mod_assign_get_submission_status", "mod_assign", _status_params, _status_returns, get_submission_status
    ),
    ExternalFunction(
        "mod_assign_list_participants", "mod_assign", _participants_params, _participants_returns, list_participants
    ),
)
