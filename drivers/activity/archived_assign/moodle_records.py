"""What an assignment job reads from Moodle: the assignment, everyone who may have a submission or a grade, and
each person's submission status — core web services only, about 8 + P requests (P = people seen).

`get_submissions` and `get_grades` return only the latest attempt and silently drop users whose enrolment was
removed; `get_submission_status` (one call per user) is the only source of feedback plugins, `gradefordisplay`
and previous attempts. A user Moodle still holds a grade for but whose status it refuses (`nopermission`) is
*unreachable*: the archive is then incomplete and says so by name.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from archived.interfaces.activity import CourseUsers, IncludedUser
from archived.moodle.api import MoodleApi, parse_answer
from archived.moodle.check import OPTIONAL_FOR_ASSIGNMENTS
from archived.moodle.errors import AccessDeniedError, MoodleError, NoPermissionError
from archived.moodle.models import (
    AssignGrade,
    Assignment,
    Submission,
    SubmissionList,
    SubmissionStatus,
    User,
)
from archived_assign.advanced_grading import DEFINITIONS, INSTANCES, AdvancedGrading, active_definition
from archived_assign.submission_comments import FUNCTION as COMMENTS

# Asked for when the token has them; each one missing is named in the job log and in job.json (and listed with
# what it adds by `archived moodle check`).
OPTIONAL_FUNCTIONS = tuple(OPTIONAL_FOR_ASSIGNMENTS)
# Optional functions asked with their own parameters (advanced grading, below) or per submission (comments).
OWN_PARAMETERS = frozenset({DEFINITIONS, INSTANCES, COMMENTS})
# The exact stored text: no filters, `@@PLUGINFILE@@` left as it is (contract §5 on text fields).
RAW_TEXT = {"moodlewssettingraw": 1, "moodlewssettingfileurl": 0}
STATUS_RUNNERS = 4
# The user fields an assignment job uses (Moodle adds id and fullname): a fraction of a full record to parse.
USER_FIELDS = ("id", "username", "firstname", "lastname", "fullname", "idnumber")
# Moodle's answers for a user whose status it will not give: enrolment removed (`nopermission`), or the account
# deleted, suspended or incomplete since (`core_user::require_active_user`).
UNREACHABLE_CODES = frozenset({"nopermission", "userdeleted", "suspended", "usernotfullysetup", "invaliduser"})


@dataclass(frozen=True, slots=True)
class Person:
    """Someone an assignment archive may hold: names as Moodle gave them (empty when it did not)."""

    id: int
    username: str = ""
    firstname: str = ""
    lastname: str = ""
    fullname: str = ""
    idnumber: str = ""
    enrolled: bool = True

    @classmethod
    def of(cls, user: User, *, enrolled: bool = True) -> Person:
        """From an enrolled user, an assignment participant or a user record."""
        return cls(
            user.id,
            user.username or "",
            user.firstname or "",
            user.lastname or "",
            user.fullname or "",
            user.idnumber or "",
            enrolled,
        )

    def included(self) -> IncludedUser:
        """As the driver contract names a person."""
        return IncludedUser(self.id, self.username, self.firstname, self.lastname, self.idnumber)

    @property
    def shown(self) -> str:
        """'Zoë Ōtsuka (zotsuka, user 4)' — how messages name the person."""
        name = " ".join(x for x in (self.firstname, self.lastname) if x) or self.fullname or "unknown name"
        return f"{name} ({self.username or '?'}, user {self.id})"


@dataclass
class AssignFacts:
    """Everything read about one assignment before any file is fetched."""

    assignment: Assignment
    people: dict[int, Person]
    submissions: dict[int, Submission]  # latest per user (team submissions: by group id, negated)
    grades: dict[int, AssignGrade]
    raw_texts: dict[int, str]  # submission id → the exact stored online text
    statuses: dict[int, SubmissionStatus]  # user id → their submission status
    unreachable: dict[int, str]  # users Moodle refused the status of → its error code
    optional: dict[str, Any] = field(default_factory=dict)  # function → its answer, when the token has it
    missing_functions: list[str] = field(default_factory=list)
    refused_functions: dict[str, str] = field(default_factory=dict)  # offered, but Moodle refused: function → why
    grading: AdvancedGrading | None = None  # the active rubric or marking guide, with the fillings when readable

    @property
    def reads_comments(self) -> bool:
        """Whether submission comments are read (the token has the function and Moodle has not refused it)."""
        return COMMENTS not in self.missing_functions and COMMENTS not in self.refused_functions


async def find_assignment(api: MoodleApi, course_id: int, cmid: int) -> Assignment | None:
    """The assignment of course module `cmid` in the course, or None."""
    listing = await api.assignments([course_id])
    return next((a for c in listing.courses for a in c.assignments if a.cmid == cmid), None)


def assign_last_modified(assignment: Assignment, submissions: list[Submission], grades: list[AssignGrade]) -> int:
    """Unix time of the assignment's last change: its own, its newest submission's or its newest grade's."""
    newest_submission = max((s.timemodified or 0 for s in submissions), default=0)
    newest_grade = max((g.timemodified or 0 for g in grades), default=0)
    return max(assignment.timemodified or 0, newest_submission, newest_grade)


def assign_fingerprint(assignment: Assignment, submissions: list[Submission], grades: list[AssignGrade]) -> str:
    """The assignment's state: its own modification plus the newest submission and grade modification."""
    newest_submission = max((s.timemodified or 0 for s in submissions), default=0)
    newest_grade = max((g.timemodified or 0 for g in grades), default=0)
    text = f"assign:{assignment.id}:{assignment.timemodified or 0}:{newest_submission}:{newest_grade}"
    text += f":{len(submissions)}:{len(grades)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def latest(listing: SubmissionList, assign_id: int) -> list[Submission]:
    """The submissions of one assignment in a `get_submissions` answer."""
    return [s for a in listing.assignments if a.assignmentid == assign_id for s in a.submissions]


async def read_assignment(
    api: MoodleApi, course_id: int, assignment: Assignment, course_users: CourseUsers | None = None
) -> AssignFacts:
    """Read everyone and everything of the assignment (see the module docstring), statuses a few at a time.

    `course_users` (the daemon's record of everyone ever seen in the course) adds people Moodle no longer lists,
    and learns those it lists now.
    """
    site = await api.site_info()
    # Without `onlyactive`: suspended and expired enrolments are listed too.
    enrolled = await api.enrolled_users(course_id, userfields=USER_FIELDS)
    participants = await api.list_participants(assignment.id, includeenrolments=False)
    submissions = latest(await api.submissions([assignment.id]), assignment.id)
    function = "mod_assign_get_submissions"
    answer = await api.client.call(function, {"assignmentids": [assignment.id], **RAW_TEXT})
    raw = latest(parse_answer(function, SubmissionList, answer), assignment.id)
    grade_list = await api.grades([assignment.id])
    grades = {g.userid: g for a in grade_list.assignments if a.assignmentid == assignment.id for g in a.grades}

    people: dict[int, Person] = {}
    for user in enrolled:
        people[user.id] = Person.of(user)
    for participant in participants:
        people.setdefault(participant.id, Person.of(participant))
    if course_users is not None:
        await course_users.remember(course_id, [p.included() for p in people.values()])
        for known in await course_users.known(course_id):
            if known.id not in people:
                people[known.id] = Person(known.id, known.username, known.firstname, known.lastname,
                                          idnumber=known.idnumber, enrolled=False)  # fmt: skip
    for userid in {s.userid for s in submissions if s.userid} | set(grades):
        people.setdefault(userid, Person(userid, enrolled=False))
    optional: dict[str, Any] = {}
    missing: list[str] = []
    for function in OPTIONAL_FUNCTIONS:
        if not site.has_function(function):
            missing.append(function)
            continue
        params: dict[str, Any] = {"assignmentids": [assignment.id]}
        if function == "gradereport_user_get_grade_items":
            params = {"courseid": course_id}
        if function == "mod_assign_get_user_mappings" and not assignment.blindmarking:
            continue
        if function in OWN_PARAMETERS:
            continue
        optional[function] = await api.client.call(function, params)
    refused: dict[str, str] = {}
    grading = await _advanced_grading(api, assignment, missing, optional, refused)

    # Only students (and who holds a grade or submission) have a status worth asking for: teachers are enrolled
    # too, but Moodle answers their status like a student's; they are asked and dropped when they have nothing.
    statuses: dict[int, SubmissionStatus] = {}
    unreachable: dict[int, str] = {}
    queue = sorted(people)

    async def runner() -> None:
        while queue:
            userid = queue.pop(0)
            try:
                statuses[userid] = await api.submission_status(assignment.id, userid)
            except MoodleError as exc:
                if exc.errorcode not in UNREACHABLE_CODES:
                    raise
                unreachable[userid] = exc.errorcode

    await asyncio.gather(*(runner() for _ in range(STATUS_RUNNERS)))
    by_key = {(-s.groupid if not s.userid else s.userid): s for s in submissions}
    return AssignFacts(
        assignment=assignment,
        people=people,
        submissions=by_key,
        grades=grades,
        raw_texts={s.id: onlinetext(s) or "" for s in raw},
        statuses=statuses,
        unreachable=dict(sorted(unreachable.items())),
        optional=optional,
        missing_functions=missing,
        refused_functions=refused,
        grading=grading,
    )


def refusal(exc: MoodleError) -> str | None:
    """Why Moodle refused an optional function (a missing capability, the function taken off the service); None
    for any other error, which fails the job like an error of a required function."""
    if isinstance(exc, NoPermissionError | AccessDeniedError):
        return f"{exc.errorcode}: {exc.moodle_message or exc}"
    return None


async def _advanced_grading(
    api: MoodleApi, assignment: Assignment, missing: list[str], optional: dict[str, Any], refused: dict[str, str]
) -> AdvancedGrading | None:
    """The assignment's active rubric or marking guide and its fillings, when the token may read them."""
    if DEFINITIONS in missing:
        return None
    params = {"cmids": [assignment.cmid], "areaname": "submissions", "activeonly": 0}  # see advanced_grading
    try:
        answer = await api.client.call(DEFINITIONS, params)
    except MoodleError as exc:
        if (why := refusal(exc)) is None:
            raise
        refused[DEFINITIONS] = why
        return None
    optional[DEFINITIONS] = answer
    definition = active_definition(answer, assignment.cmid)
    if definition is None:
        return None
    if INSTANCES in missing:
        return AdvancedGrading(definition, {}, fillings_read=False)
    try:
        answer = await api.client.call(INSTANCES, {"definitionid": definition.id, "since": 0})
    except MoodleError as exc:
        if (why := refusal(exc)) is None:
            raise
        refused[INSTANCES] = why
        return AdvancedGrading(definition, {}, fillings_read=False)
    optional[INSTANCES] = answer
    return AdvancedGrading.of(definition, answer)


async def raw_previous_texts(api: MoodleApi, assign_id: int, userid: int) -> dict[int, str]:
    """The exact stored online text of every attempt of one user (submission id → text), one request."""
    function = "mod_assign_get_submission_status"
    answer = await api.client.call(function, {"assignid": assign_id, "userid": userid, **RAW_TEXT})
    status: SubmissionStatus = parse_answer(function, SubmissionStatus, answer)
    found: dict[int, str] = {}
    for submission in [a.submission for a in status.previousattempts if a.submission is not None]:
        found[submission.id] = onlinetext(submission) or ""
    return found


def onlinetext(submission: Submission) -> str | None:
    """The online text of a submission, None when the plugin is off."""
    for plugin in submission.plugins:
        if plugin.type == "onlinetext":
            for editor in plugin.editorfields:
                if editor.name == "onlinetext":
                    return editor.text
    return None
