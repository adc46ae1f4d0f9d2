"""Typed views of the web-service answers archived uses (pydantic v2).

The models follow Moodle's own return descriptions (see shared/spec/moodle-ws-contract.md §3) and are tolerant
the way Moodle output demands: unknown keys are ignored (versions add fields), optional keys may be absent or
`null`, an empty single structure arrives as `[]`, whole floats arrive as ints (`2`, not `2.0`), assignment
grades are decimal strings (`"85.00000"`) and quiz marks localised strings (`"9,50"` under `de`). Keys that
Moodle always sends are required, so an answer without them is reported as malformed.
"""

from __future__ import annotations

import enum
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _php_struct(value: Any) -> Any:
    # PHP encodes an empty associative array (a single structure with no keys set) as []: nothing is there.
    return None if isinstance(value, list) and not value else value


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return value


Items = Annotated[list[T], BeforeValidator(_none_as_empty_list)]
"""A list that may also arrive as `null`."""
Struct = Annotated[T, BeforeValidator(_php_struct)]
"""An optional single structure that may arrive as `[]` when empty (read as None)."""
Text = Annotated[str, BeforeValidator(_as_text)]
"""A string field that some versions send as a number."""


class MoodleModel(BaseModel):
    """Base of every answer model: unknown keys ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# -- values -------------------------------------------------------------------------------------------------


def parse_mark(text: str | None) -> Decimal | None:
    """A quiz question `mark` (localised, e.g. "9.50", "0,50", "1,000.00") as a Decimal; None when ungraded."""
    if text is None:
        return None
    cleaned = "".join(ch for ch in text.strip() if ch not in " \u00a0\u202f'")
    if not cleaned:
        return None
    last_dot, last_comma = cleaned.rfind("."), cleaned.rfind(",")
    if last_dot >= 0 and last_comma >= 0:  # both present: the later one is the decimal separator
        decimal_sep = "." if last_dot > last_comma else ","
        other = "," if decimal_sep == "." else "."
        cleaned = cleaned.replace(other, "").replace(decimal_sep, ".")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a mark: {text!r}") from None


def parse_assign_grade(text: str | None) -> Decimal | None:
    """An assignment `grade` string ("85.00000") as a Decimal; None for no grade ("-1.00000", "", null)."""
    if text is None or not str(text).strip():
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"not a grade: {text!r}") from None
    return None if value == -1 else value


# -- shared pieces ------------------------------------------------------------------------------------------


class MoodleWarning(MoodleModel):
    """An entry of a `warnings[]` list; `warningcode` is a string ("1", "2", "3")."""

    item: str | None = None
    itemid: int | None = None
    warningcode: Text
    message: str = ""


class ExternalFile(MoodleModel):
    """An `external_files` entry (intro files, submission files, quiz response files)."""

    filename: str
    filepath: str = "/"
    filesize: int | None = None
    fileurl: str | None = None
    timemodified: int | None = None
    mimetype: str | None = None
    isexternalfile: bool | None = None
    repositorytype: str | None = None
    icon: str | None = None


class NameValue(MoodleModel):
    """A `{name, value}` pair (course format options, advanced features)."""

    name: str
    value: Text | None = None


# -- site ---------------------------------------------------------------------------------------------------


class SiteFunction(MoodleModel):
    """A function of the token's external service, with its component version."""

    name: str
    version: Text = ""


class SiteInfo(MoodleModel):
    """`core_webservice_get_site_info`: the site, the token's user and the functions its service offers.

    `userprivateaccesskey` is deliberately not kept: it is a secret like the token.
    """

    sitename: str
    username: str
    firstname: str = ""
    lastname: str = ""
    fullname: str = ""
    lang: str = ""
    userid: int
    siteurl: str
    userpictureurl: str | None = None
    functions: Items[SiteFunction] = Field(default_factory=list)
    downloadfiles: int | None = None
    uploadfiles: int | None = None
    release: str | None = None
    version: Text | None = None
    userissiteadmin: bool | None = None
    siteid: int | None = None
    theme: str | None = None
    policyagreed: int | None = None

    @property
    def function_names(self) -> frozenset[str]:
        """The names of the functions the token may call."""
        return frozenset(function.name for function in self.functions)

    def has_function(self, name: str) -> bool:
        """Whether the token's service offers `name`."""
        return name in self.function_names

    @property
    def version_number(self) -> Decimal | None:
        """`$CFG->version` as a number (e.g. 2024100705.01), or None when not reported."""
        try:
            return Decimal(self.version) if self.version else None
        except InvalidOperation:
            return None

    @property
    def branch(self) -> str | None:
        """The Moodle branch ("4.1" … "5.0", or the newest known one it is at least), from `version`."""
        number = self.version_number
        if number is None:
            return None
        found = None
        for branch, first_version in MOODLE_BRANCHES:
            if number >= first_version:
                found = branch
        return found


MOODLE_BRANCHES: tuple[tuple[str, int], ...] = (
    ("4.1", 2022112800),
    ("4.2", 2023042400),
    ("4.3", 2023100900),
    ("4.4", 2024042200),
    ("4.5", 2024100700),
    ("5.0", 2025041400),
)
"""Moodle branch → first `$CFG->version` of that branch."""


# -- categories and courses ---------------------------------------------------------------------------------


class Category(MoodleModel):
    """A course category (`core_course_get_categories`)."""

    id: int
    name: str
    idnumber: str | None = None
    description: str = ""
    descriptionformat: int | None = None
    parent: int = 0
    sortorder: int | None = None
    coursecount: int | None = None
    visible: int | None = None
    depth: int | None = None
    path: str = ""


class CourseContact(MoodleModel):
    """A course contact (usually a teacher)."""

    id: int
    fullname: str


class Course(MoodleModel):
    """A course from `core_course_get_courses_by_field` (or `core_course_get_courses`, which has fewer keys)."""

    id: int
    fullname: str
    displayname: str = ""
    shortname: str
    categoryid: int | None = None
    categoryname: str | None = None
    sortorder: int | None = None
    summary: str = ""
    summaryformat: int | None = None
    summaryfiles: Items[ExternalFile] = Field(default_factory=list)
    overviewfiles: Items[ExternalFile] = Field(default_factory=list)
    courseimage: str | None = None
    contacts: Items[CourseContact] = Field(default_factory=list)
    enrollmentmethods: Items[str] = Field(default_factory=list)
    idnumber: str | None = None
    format: str | None = None
    startdate: int | None = None
    enddate: int | None = None
    visible: int | None = None
    groupmode: int | None = None
    lang: str | None = None
    timecreated: int | None = None
    timemodified: int | None = None
    courseformatoptions: Items[NameValue] = Field(default_factory=list)


class CourseList(MoodleModel):
    """The answer of `core_course_get_courses_by_field`."""

    courses: Items[Course] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class FileParent(MoodleModel):
    """A parent level of a `core_files_get_files` listing (null fields at context levels)."""

    contextid: int | None = None
    component: str | None = None
    filearea: str | None = None
    itemid: int | None = None
    filepath: str | None = None
    filename: str | None = None


class StoredFile(MoodleModel):
    """A file or directory of a `core_files_get_files` listing (`url` is the web pluginfile form)."""

    contextid: int
    component: str
    filearea: str
    itemid: int
    filepath: str
    filename: str
    isdir: bool = False
    url: str | None = None
    timemodified: int | None = None
    timecreated: int | None = None
    filesize: int | None = None
    author: str | None = None
    license: str | None = None


class FileListing(MoodleModel):
    """The answer of `core_files_get_files` (empty unless the file browser lets the service user in)."""

    parents: Items[FileParent] = Field(default_factory=list)
    files: Items[StoredFile] = Field(default_factory=list)


class ModuleDate(MoodleModel):
    """A date shown for a module ("Opens:", "Due:")."""

    label: str = ""
    timestamp: int | None = None
    dataid: str | None = None


class ModuleContent(MoodleModel):
    """A `contents[]` item of a resource-like module."""

    type: str
    filename: str = ""
    filepath: str | None = None
    filesize: int | None = None
    fileurl: str | None = None
    content: str | None = None
    timecreated: int | None = None
    timemodified: int | None = None
    sortorder: int | None = None
    mimetype: str | None = None
    isexternalfile: bool | None = None
    userid: int | None = None
    author: str | None = None
    license: str | None = None


class CourseModule(MoodleModel):
    """A course module in `core_course_get_contents` (`id` is the cmid, `instance` the activity id)."""

    id: int
    url: str | None = None
    name: str
    instance: int | None = None
    contextid: int | None = None
    description: str | None = None
    visible: int | None = None
    uservisible: bool | None = None
    visibleoncoursepage: int | None = None
    modicon: str | None = None
    modname: str
    purpose: str | None = None
    modplural: str | None = None
    availability: str | None = None
    indent: int | None = None
    customdata: str | None = None
    noviewlink: bool | None = None
    completion: int | None = None
    dates: Items[ModuleDate] = Field(default_factory=list)
    groupmode: int | None = None
    contents: Items[ModuleContent] = Field(default_factory=list)

    @property
    def customdata_dict(self) -> dict[str, Any]:
        """`customdata` decoded (it is a JSON string, `""` when empty)."""
        if not self.customdata:
            return {}
        try:
            value = json.loads(self.customdata)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class CourseSection(MoodleModel):
    """A section of `core_course_get_contents` with its modules."""

    id: int
    name: str = ""
    visible: int | None = None
    summary: str = ""
    summaryformat: int | None = None
    section: int | None = None
    uservisible: bool | None = None
    component: str | None = None
    itemid: int | None = None
    modules: Items[CourseModule] = Field(default_factory=list)


# -- users --------------------------------------------------------------------------------------------------


class UserGroup(MoodleModel):
    """A group a user belongs to."""

    id: int
    name: str
    description: str | None = None
    descriptionformat: int | None = None


class UserRole(MoodleModel):
    """A role a user holds in the course."""

    roleid: int
    name: str = ""
    shortname: str = ""
    sortorder: int | None = None


class EnrolledCourse(MoodleModel):
    """A course a user is enrolled in."""

    id: int
    fullname: str = ""
    shortname: str = ""


class CustomField(MoodleModel):
    """A user profile field."""

    type: str | None = None
    value: Text | None = None
    displayvalue: str | None = None
    name: str | None = None
    shortname: str | None = None


class User(MoodleModel):
    """A user as the user functions describe them; fields the service user may not see are absent (None).

    `idnumber` is the matriculation number on most sites; it is only visible with the right capabilities.
    """

    id: int
    username: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    fullname: str
    email: str | None = None
    department: str | None = None
    institution: str | None = None
    idnumber: str | None = None
    firstaccess: int | None = None
    lastaccess: int | None = None
    auth: str | None = None
    suspended: bool | None = None
    confirmed: bool | None = None
    lang: str | None = None
    timezone: str | None = None
    city: str | None = None
    country: str | None = None
    profileimageurlsmall: str | None = None
    profileimageurl: str | None = None
    customfields: Items[CustomField] = Field(default_factory=list)


class EnrolledUser(User):
    """A user of `core_enrol_get_enrolled_users`, with groups and roles in that course."""

    lastcourseaccess: int | None = None
    groups: Items[UserGroup] = Field(default_factory=list)
    roles: Items[UserRole] = Field(default_factory=list)
    enrolledcourses: Items[EnrolledCourse] = Field(default_factory=list)


# -- quiz ---------------------------------------------------------------------------------------------------


class AttemptState(enum.StrEnum):
    """Quiz attempt states (5.0 adds `notstarted` and `submitted`)."""

    NOTSTARTED = "notstarted"
    INPROGRESS = "inprogress"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    FINISHED = "finished"
    ABANDONED = "abandoned"


class Quiz(MoodleModel):
    """A quiz of `mod_quiz_get_quizzes_by_courses` (`id` is the quiz id, `coursemodule` the cmid)."""

    id: int
    coursemodule: int
    course: int
    name: str
    intro: str | None = None
    introformat: int | None = None
    introfiles: Items[ExternalFile] = Field(default_factory=list)
    section: int | None = None
    visible: bool | None = None
    groupmode: int | None = None
    groupingid: int | None = None
    timeopen: int | None = None
    timeclose: int | None = None
    timelimit: int | None = None
    preferredbehaviour: str | None = None
    attempts: int | None = None
    grademethod: int | None = None
    decimalpoints: int | None = None
    questiondecimalpoints: int | None = None
    questionsperpage: int | None = None
    navmethod: str | None = None
    sumgrades: float | None = None
    grade: float | None = None
    timecreated: int | None = None
    timemodified: int | None = None
    hasfeedback: int | None = None
    hasquestions: int | None = None


class QuizList(MoodleModel):
    """The answer of `mod_quiz_get_quizzes_by_courses`."""

    quizzes: Items[Quiz] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class GradeItemMark(MoodleModel):
    """A mark for one extra quiz grade item (4.4+)."""

    name: str
    grade: float | None = None
    maxgrade: float | None = None


class QuizAttempt(MoodleModel):
    """A quiz attempt (`uniqueid` is the question usage id that appears in question HTML and file URLs)."""

    id: int
    quiz: int
    userid: int
    attempt: int
    uniqueid: int
    layout: str = ""
    currentpage: int | None = None
    preview: int = 0
    state: Annotated[AttemptState | str, Field(union_mode="left_to_right")]
    timestart: int = 0
    timefinish: int = 0
    timemodified: int | None = None
    timemodifiedoffline: int | None = None
    timecheckstate: int | None = None
    sumgrades: float | None = None
    gradeitemmarks: Items[GradeItemMark] = Field(default_factory=list)
    gradednotificationsenttime: int | None = None

    @property
    def is_preview(self) -> bool:
        """Whether this is a teacher's preview attempt."""
        return bool(self.preview)


class AttemptList(MoodleModel):
    """The answer of `mod_quiz_get_user_attempts` / `mod_quiz_get_user_quiz_attempts`."""

    attempts: Items[QuizAttempt] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class ResponseFileArea(MoodleModel):
    """Files a student uploaded for a question (e.g. essay `attachments`)."""

    area: str
    files: Items[ExternalFile] = Field(default_factory=list)


class QuestionAttempt(MoodleModel):
    """One question (slot) of an attempt review, with its rendered HTML.

    `mark` is Moodle's localised text ("9.50", "" when not graded); use `mark_value` for the number.
    """

    slot: int
    type: str = ""
    page: int = 0
    questionnumber: str | None = None
    number: int | None = None
    html: str = ""
    responsefileareas: Items[ResponseFileArea] = Field(default_factory=list)
    sequencecheck: int | None = None
    lastactiontime: int | None = None
    hasautosavedstep: bool | None = None
    flagged: bool = False
    state: str | None = None
    stateclass: str | None = None
    status: str | None = None
    blockedbyprevious: bool | None = None
    mark: str | None = None
    maxmark: float | None = None
    settings: str | None = None

    @property
    def mark_value(self) -> Decimal | None:
        """The mark as a number, None when not graded (or not visible)."""
        return parse_mark(self.mark)

    @property
    def settings_dict(self) -> dict[str, Any]:
        """`settings` decoded (a JSON string or null)."""
        if not self.settings:
            return {}
        try:
            value = json.loads(self.settings)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class AdditionalData(MoodleModel):
    """Extra review data, e.g. `{"id": "feedback", …}` with the overall feedback HTML."""

    id: str
    title: str = ""
    content: str = ""


class AttemptReview(MoodleModel):
    """The answer of `mod_quiz_get_attempt_review`: `grade` is scaled to the quiz grade, None until graded."""

    grade: float | None = None
    attempt: QuizAttempt
    additionaldata: Items[AdditionalData] = Field(default_factory=list)
    questions: Items[QuestionAttempt] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)

    @property
    def overall_feedback(self) -> str | None:
        """The overall feedback HTML, when Moodle included it."""
        for item in self.additionaldata:
            if item.id == "feedback":
                return item.content
        return None


class BestGrade(MoodleModel):
    """The answer of `mod_quiz_get_user_best_grade`."""

    hasgrade: bool
    grade: float | None = None
    gradetopass: float | None = None
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class QuizFeedback(MoodleModel):
    """The answer of `mod_quiz_get_quiz_feedback_for_grade` (TeX arrives unfiltered here)."""

    feedbacktext: str = ""
    feedbacktextformat: int | None = None
    feedbackinlinefiles: Items[ExternalFile] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


# -- assignments --------------------------------------------------------------------------------------------


class SubmissionStatusCode(enum.StrEnum):
    """Assignment submission states."""

    NEW = "new"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


class AssignConfig(MoodleModel):
    """A plugin setting of an assignment (`{plugin, subtype, name, value}`)."""

    plugin: str
    subtype: str
    name: str
    value: Text | None = None


class Assignment(MoodleModel):
    """An assignment of `mod_assign_get_assignments` (`id` is the assign id, `cmid` the course module)."""

    id: int
    cmid: int
    course: int
    name: str
    nosubmissions: int | None = None
    submissiondrafts: int | None = None
    duedate: int | None = None
    allowsubmissionsfromdate: int | None = None
    grade: int | None = None
    gradepenalty: int | None = None
    timemodified: int | None = None
    cutoffdate: int | None = None
    gradingduedate: int | None = None
    teamsubmission: int | None = None
    blindmarking: int | None = None
    markingworkflow: int | None = None
    attemptreopenmethod: str | None = None
    maxattempts: int | None = None
    configs: Items[AssignConfig] = Field(default_factory=list)
    intro: str | None = None
    introformat: int | None = None
    introfiles: Items[ExternalFile] = Field(default_factory=list)
    introattachments: Items[ExternalFile] = Field(default_factory=list)
    timelimit: int | None = None


class AssignCourse(MoodleModel):
    """A course with its assignments."""

    id: int
    fullname: str = ""
    shortname: str = ""
    timemodified: int | None = None
    assignments: Items[Assignment] = Field(default_factory=list)


class AssignmentList(MoodleModel):
    """The answer of `mod_assign_get_assignments`."""

    courses: Items[AssignCourse] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class PluginFileArea(MoodleModel):
    """A file area of a submission or feedback plugin."""

    area: str
    files: Items[ExternalFile] = Field(default_factory=list)


class EditorField(MoodleModel):
    """A text field of a submission or feedback plugin (online text, feedback comments)."""

    name: str
    description: str = ""
    text: str = ""
    format: int | None = None


class AssignPlugin(MoodleModel):
    """A submission or feedback plugin's data."""

    type: str
    name: str = ""
    fileareas: Items[PluginFileArea] = Field(default_factory=list)
    editorfields: Items[EditorField] = Field(default_factory=list)


class Submission(MoodleModel):
    """An assignment submission (the latest attempt of a user or group)."""

    id: int
    userid: int
    attemptnumber: int = 0
    timecreated: int | None = None
    timemodified: int | None = None
    timestarted: int | None = None
    status: Annotated[SubmissionStatusCode | str, Field(union_mode="left_to_right")]
    groupid: int = 0
    assignment: int | None = None
    latest: int | None = None
    plugins: Items[AssignPlugin] = Field(default_factory=list)
    gradingstatus: str | None = None


class AssignSubmissions(MoodleModel):
    """The submissions of one assignment."""

    assignmentid: int
    submissions: Items[Submission] = Field(default_factory=list)


class SubmissionList(MoodleModel):
    """The answer of `mod_assign_get_submissions`."""

    assignments: Items[AssignSubmissions] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class AssignGrade(MoodleModel):
    """An assignment grade; `grade` is Moodle's decimal string, `grade_value` the number (None = no grade)."""

    id: int
    assignment: int | None = None
    userid: int
    attemptnumber: int = 0
    timecreated: int | None = None
    timemodified: int | None = None
    grader: int | None = None
    grade: Text | None = None
    gradefordisplay: str | None = None

    @property
    def grade_value(self) -> Decimal | None:
        """The grade as a Decimal, None when there is none ("-1.00000")."""
        return parse_assign_grade(self.grade)


class AssignGrades(MoodleModel):
    """The grades of one assignment."""

    assignmentid: int
    grades: Items[AssignGrade] = Field(default_factory=list)


class GradeList(MoodleModel):
    """The answer of `mod_assign_get_grades`."""

    assignments: Items[AssignGrades] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class GradingSummary(MoodleModel):
    """Counts for the grader's view of an assignment."""

    participantcount: int | None = None
    submissiondraftscount: int | None = None
    submissionsenabled: bool | None = None
    submissionssubmittedcount: int | None = None
    submissionsneedgradingcount: int | None = None
    warnofungroupedusers: Text | None = None


class LastAttempt(MoodleModel):
    """The user's latest submission attempt and its state."""

    submission: Struct[Submission | None] = None
    teamsubmission: Struct[Submission | None] = None
    submissiongroup: int | None = None
    submissiongroupmemberswhoneedtosubmit: Items[int] = Field(default_factory=list)
    submissionsenabled: bool | None = None
    locked: bool | None = None
    graded: bool | None = None
    canedit: bool | None = None
    caneditowner: bool | None = None
    cansubmit: bool | None = None
    extensionduedate: int | None = None
    timelimit: int | None = None
    blindmarking: bool | None = None
    gradingstatus: str | None = None
    usergroups: Items[int] = Field(default_factory=list)


class Feedback(MoodleModel):
    """The grade and feedback plugins for the user's latest attempt."""

    grade: Struct[AssignGrade | None] = None
    gradefordisplay: str | None = None
    gradeddate: int | None = None
    plugins: Items[AssignPlugin] = Field(default_factory=list)


class PreviousAttempt(MoodleModel):
    """An earlier submission attempt with its grade and feedback."""

    attemptnumber: int
    submission: Struct[Submission | None] = None
    grade: Struct[AssignGrade | None] = None
    feedbackplugins: Items[AssignPlugin] = Field(default_factory=list)


class AssignmentDataAttachments(MoodleModel):
    """Files attached to the assignment description and activity."""

    intro: Items[ExternalFile] = Field(default_factory=list)
    activity: Items[ExternalFile] = Field(default_factory=list)


class AssignmentData(MoodleModel):
    """Assignment description data shown with the status."""

    attachments: Struct[AssignmentDataAttachments | None] = None
    activity: str | None = None
    activityformat: int | None = None


class SubmissionStatus(MoodleModel):
    """The answer of `mod_assign_get_submission_status` for one user."""

    gradingsummary: Struct[GradingSummary | None] = None
    lastattempt: Struct[LastAttempt | None] = None
    feedback: Struct[Feedback | None] = None
    previousattempts: Items[PreviousAttempt] = Field(default_factory=list)
    assignmentdata: Struct[AssignmentData | None] = None
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class ParticipantGroup(MoodleModel):
    """A group of an assignment participant."""

    id: int
    name: str
    description: str | None = None


class Participant(User):
    """A participant of `mod_assign_list_participants` with the state of their submission."""

    recordid: int | None = None
    groups: Items[ParticipantGroup] = Field(default_factory=list)
    roles: Items[UserRole] = Field(default_factory=list)
    enrolledcourses: Items[EnrolledCourse] = Field(default_factory=list)
    submitted: bool
    requiregrading: bool
    grantedextension: bool
    submissionstatus: str | None = None
    groupid: int | None = None
    groupname: str | None = None
