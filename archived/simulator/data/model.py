"""The records of the simulated site: plain dataclasses, one per Moodle table the simulator needs.

Ids, context ids and timestamps are stored as Moodle stores them; URLs are not stored at all because they
depend on the address the server binds to (they are built per request from `wwwroot`). Rows of `files` are
`archived.simulator.storedfile.StoredFile`, which question attempts share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archived.simulator.questions.base import QuestionDef
from archived.simulator.storedfile import StoredFile


@dataclass
class Category:
    """`course_categories`."""

    id: int
    name: str
    idnumber: str
    description: str
    parent: int
    sortorder: int
    contextid: int
    timemodified: int
    visible: int = 1

    @property
    def depth(self) -> int:
        """1 for top-level categories."""
        return self.path.count("/")

    path: str = ""


@dataclass
class Section:
    """`course_sections`."""

    id: int
    course: int
    section: int
    name: str = ""
    summary: str = ""
    visible: int = 1
    modules: list[int] = field(default_factory=list)


@dataclass
class Course:
    """`course` plus the bits of its format options the web services print."""

    id: int
    shortname: str
    fullname: str
    categoryid: int
    summary: str
    format: str
    startdate: int
    enddate: int
    contextid: int
    sortorder: int
    timecreated: int
    timemodified: int
    summaryformat: int = 1
    enablecompletion: int = 1
    showgrades: int = 1
    newsitems: int = 0
    visible: int = 1
    courseformatoptions: list[tuple[str, object]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


@dataclass
class User:
    """`user` (only the fields the web services can show)."""

    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str
    contextid: int
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    auth: str = "manual"
    lang: str = "en"
    password: str = ""
    suspended: bool = False

    @property
    def fullname(self) -> str:
        """Moodle's default fullname format: firstname lastname."""
        return f"{self.firstname} {self.lastname}"


@dataclass(frozen=True)
class Role:
    """A role assignment in a course."""

    roleid: int
    shortname: str


STUDENT = Role(5, "student")
EDITING_TEACHER = Role(3, "editingteacher")


@dataclass
class Group:
    """`groups` with its members."""

    id: int
    courseid: int
    name: str
    description: str
    members: list[int] = field(default_factory=list)
    descriptionformat: int = 0


@dataclass
class CourseModule:
    """`course_modules` joined with `modules.name`."""

    id: int
    course: int
    modname: str
    instance: int
    section: int
    contextid: int
    name: str
    visible: int = 1
    hidden_from_contents: bool = False
    description: str = ""  # shown on the course page (`core_course_get_contents` lists it when set)


@dataclass
class Resource:
    """`resource`: a file activity."""

    id: int
    cmid: int
    course: int
    name: str
    file: StoredFile
    revision: int = 0


@dataclass
class QuizSlot:
    """`quiz_slots`: a question placed on a page with a maximum mark."""

    slot: int
    page: int
    maxmark: float
    question: QuestionDef


@dataclass
class FeedbackBand:
    """`quiz_feedback`: overall feedback for scaled grades in [mingrade, maxgrade)."""

    id: int
    text: str
    mingrade: float
    maxgrade: float


@dataclass
class Quiz:
    """`quiz` with its slots and overall feedback."""

    id: int
    cmid: int
    course: int
    name: str
    intro: str
    contextid: int
    section: int
    timeopen: int
    timeclose: int
    grade: float
    attempts_allowed: int
    questionsperpage: int
    slots: list[QuizSlot]
    feedback: list[FeedbackBand]
    timecreated: int
    timemodified: int
    gradepass: float = 0.0
    navmethod: str = "free"
    graceperiod: int = 86400
    decimalpoints: int = 2
    questiondecimalpoints: int = -1
    reviewoverallfeedback: int = 4368
    review_history: bool = True

    @property
    def sumgrades(self) -> float:
        """Sum of the slots' maximum marks."""
        return float(sum(slot.maxmark for slot in self.slots))

    @property
    def layout(self) -> str:
        """`quiz_attempts.layout`: slots with `0` after each page."""
        parts: list[str] = []
        for index, slot in enumerate(self.slots):
            parts.append(str(slot.slot))
            last_on_page = index + 1 == len(self.slots) or self.slots[index + 1].page != slot.page
            if last_on_page:
                parts.append("0")
        return ",".join(parts)


@dataclass
class AttemptPlan:
    """How an attempt's responses are generated: a seed plus, optionally, forced outcomes per slot.

    Outcomes are `right`, `partial`, `wrong`, `blank`; a slot without a forced outcome draws one from the
    attempt's skill level. With `generated` the essay grading, attachments and flags are drawn too;
    otherwise `essay_mark` (None = not graded yet), `attachments` and `responses` say exactly what happened.
    """

    seed: str
    skill: float = 0.7
    outcomes: dict[int, str] = field(default_factory=dict)
    essay_mark: float | None = None
    essay_comment: str | None = None
    attachments: dict[int, list[str]] = field(default_factory=dict)
    responses: dict[int, object] = field(default_factory=dict)
    answered_slots: int | None = None
    seen_pages: int | None = None
    flag_rate: float = 0.0
    graded_time: int | None = None
    generated: bool = True
    essay_graded: bool = True


@dataclass
class Attempt:
    """`quiz_attempts`."""

    id: int
    quiz: int
    userid: int
    attempt: int
    uniqueid: int
    state: str
    timestart: int
    timefinish: int
    timemodified: int
    timecheckstate: int | None
    gradednotificationsenttime: int | None
    plan: AttemptPlan
    step_base: int = 0
    currentpage: int = 0
    preview: int = 0


@dataclass
class Assign:
    """`assign` with its plugin configuration."""

    id: int
    cmid: int
    course: int
    name: str
    intro: str
    contextid: int
    section: int
    duedate: int
    allowsubmissionsfromdate: int
    gradingduedate: int
    grade: int
    timemodified: int
    maxfiles: int = 3
    maxbytes: int = 1048576
    submissiondrafts: int = 1
    teamsubmission: int = 0
    blindmarking: int = 0
    scale: tuple[str, ...] = ()  # the items of the scale when `grade` is negative (a scale id)
    editpdf: bool = False  # the "Annotate PDF" feedback plugin is on
    gradepenalty: int = 0  # 5.0+: late submissions lose marks in the gradebook


@dataclass
class Submission:
    """`assign_submission` plus its online text and files."""

    id: int
    assignment: int
    userid: int
    status: str
    timecreated: int
    timemodified: int
    onlinetext: str
    files: list[StoredFile] = field(default_factory=list)
    attemptnumber: int = 0
    groupid: int = 0
    # Earlier attempts, oldest first, with the grade each got (get_submission_status → previousattempts).
    previous: list[tuple[Submission, AssignGrade | None]] = field(default_factory=list)


@dataclass
class AssignGrade:
    """`assign_grades` plus the feedback plugins' data."""

    id: int
    assignment: int
    userid: int
    timecreated: int
    timemodified: int
    grader: int
    grade: float
    feedback: str = ""
    feedback_files: list[StoredFile] = field(default_factory=list)
    attemptnumber: int = 0
    gradeddate: int = 0
    annotated_files: list[StoredFile] = field(default_factory=list)  # assignfeedback_editpdf/download
    penalty: float = 0.0  # 5.0+: marks the gradebook deducts for lateness (assign_grades keeps the raw grade)


@dataclass
class Token:
    """`external_tokens`: a permanent token of the archiver service."""

    token: str
    userid: int
    validuntil: int = 0


@dataclass
class RubricLevel:
    """`gradingform_rubric_levels`: one level of a rubric criterion."""

    id: int
    score: float
    definition: str


@dataclass
class RubricCriterion:
    """`gradingform_rubric_criteria` with its levels."""

    id: int
    sortorder: int
    description: str
    levels: list[RubricLevel] = field(default_factory=list)


@dataclass
class GradingInstance:
    """`grading_instances` with its rubric fillings: criterion id → (chosen level id, the grader's remark)."""

    id: int
    raterid: int
    itemid: int  # the assign_grades id the filling belongs to
    rawgrade: float
    timemodified: int
    fillings: dict[int, tuple[int, str]] = field(default_factory=dict)
    status: int = 1  # INSTANCE_STATUS_ACTIVE


@dataclass
class GradingDefinition:
    """`grading_definitions` of a rubric (the assignment's active advanced grading method) and its instances."""

    id: int
    name: str
    description: str
    timecreated: int
    usercreated: int
    criteria: list[RubricCriterion] = field(default_factory=list)
    instances: list[GradingInstance] = field(default_factory=list)
    method: str = "rubric"
    status: int = 20  # DEFINITION_STATUS_READY


@dataclass
class Comment:
    """`comments`: one comment of a comment area (e.g. the submission comments of an assignment submission)."""

    id: int
    contextid: int
    component: str
    commentarea: str
    itemid: int
    content: str
    format: int
    userid: int
    timecreated: int
