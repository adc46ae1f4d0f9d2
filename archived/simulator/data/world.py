"""The seeded site: every record, indexed the way the web-service functions look them up.

The world is built once per simulator (`build_world`) and is mostly read-only afterwards. The few things that
change while the server runs — token expiry, service functions, capabilities, the 5.0 first-render times,
uploaded draft files — are guarded by `lock`. Quiz attempt details (responses, marks, steps) are generated
lazily from their seed and cached, so a quiz with thousands of attempts costs nothing until it is read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from archived.simulator.data.attempts import AttemptDetail, generate_detail
from archived.simulator.data.expectations import AttemptExpectations, build_expectations
from archived.simulator.data.model import (
    Assign,
    AssignGrade,
    Attempt,
    Category,
    Comment,
    Course,
    CourseModule,
    GradingDefinition,
    Group,
    Quiz,
    Resource,
    Role,
    Submission,
    Token,
    User,
)
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.storedfile import StoredFile

CONTEXT_SYSTEM, CONTEXT_USER, CONTEXT_COURSECAT, CONTEXT_COURSE, CONTEXT_MODULE = 10, 30, 40, 50, 70

# The capabilities of the recorded "Archiver service" role (fixtures README).
ARCHIVER_CAPABILITIES = frozenset(
    {
        "webservice/rest:use",
        "moodle/webservice:createtoken",
        "moodle/course:view",
        "moodle/course:viewhiddencourses",
        "moodle/course:viewhiddenactivities",
        "moodle/course:viewhiddensections",
        "moodle/course:viewparticipants",
        "moodle/course:enrolreview",
        "moodle/course:useremail",
        "moodle/course:viewsuspendedusers",
        "moodle/category:viewhiddencategories",
        "moodle/user:viewdetails",
        "moodle/user:viewalldetails",
        "moodle/user:viewhiddendetails",
        "moodle/site:viewuseridentity",
        "moodle/site:viewfullnames",
        "moodle/site:accessallgroups",
        "moodle/role:review",
        "moodle/grade:viewall",
        "mod/quiz:view",
        "mod/quiz:viewreports",
        "mod/quiz:reviewmyattempts",
        "mod/assign:view",
        "mod/assign:viewgrades",
        "mod/assign:grade",
        "mod/resource:view",
    }
)


@dataclass
class ContextInfo:
    """`context`: level, instance and parent (names are used by the file browser)."""

    id: int
    level: int
    instanceid: int
    parent: int | None
    name: str


@dataclass
class Service:
    """`external_services`: the archiver's service and its settings."""

    shortname: str
    name: str
    functions: list[str]
    downloadfiles: bool = True
    uploadfiles: bool = True
    enabled: bool = True


@dataclass
class World:
    """All records of the simulated site for one release profile and seed."""

    profile: ReleaseProfile
    seed: int
    now: int
    site_name: str
    site_shortname: str
    service: Service
    service_user_id: int
    privateaccesskey: str
    categories: dict[int, Category] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    enrolments: dict[int, dict[int, Role]] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    modules: dict[int, CourseModule] = field(default_factory=dict)
    resources: dict[int, Resource] = field(default_factory=dict)
    quizzes: dict[int, Quiz] = field(default_factory=dict)
    assigns: dict[int, Assign] = field(default_factory=dict)
    attempts: dict[int, Attempt] = field(default_factory=dict)
    submissions: dict[int, dict[int, Submission]] = field(default_factory=dict)
    assign_grades: dict[int, dict[int, AssignGrade]] = field(default_factory=dict)
    grading: dict[int, GradingDefinition] = field(default_factory=dict)  # cmid → its active advanced grading
    comments: list[Comment] = field(default_factory=list)
    comments_perpage: int = 15  # $CFG->commentsperpage
    files: dict[tuple[int, str, str, int, str, str], StoredFile] = field(default_factory=dict)
    contexts: dict[int, ContextInfo] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    capabilities: set[str] = field(default_factory=lambda: set(ARCHIVER_CAPABILITIES))
    first_render: dict[tuple[int, int], int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _attempts_by_user: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    _attempt_by_uniqueid: dict[int, int] = field(default_factory=dict)
    _details: dict[int, AttemptDetail] = field(default_factory=dict)
    _next_draft_itemid: int = 0

    # --- building -------------------------------------------------------------------------------------
    def add_context(self, contextid: int, level: int, instanceid: int, parent: int | None, name: str) -> None:
        """Register a context."""
        self.contexts[contextid] = ContextInfo(contextid, level, instanceid, parent, name)

    def add_file(self, stored: StoredFile) -> StoredFile:
        """Register a stored file."""
        self.files[stored.key] = stored
        return stored

    def enrol(self, courseid: int, userid: int, role: Role) -> None:
        """Enrol a user in a course."""
        self.enrolments.setdefault(courseid, {})[userid] = role

    def unenrol(self, courseid: int, userid: int) -> None:
        """Remove a user's enrolment, as a teacher does after an exam: the user and their attempts stay, the
        course no longer lists them (`core_enrol_get_enrolled_users`)."""
        self.enrolments.get(courseid, {}).pop(userid, None)

    def add_attempt(self, attempt: Attempt) -> None:
        """Register a quiz attempt."""
        self.attempts[attempt.id] = attempt
        self._attempts_by_user.setdefault((attempt.quiz, attempt.userid), []).append(attempt.id)
        self._attempt_by_uniqueid[attempt.uniqueid] = attempt.id

    # --- lookups --------------------------------------------------------------------------------------
    def user_attempts(self, quizid: int, userid: int) -> list[Attempt]:
        """A user's attempts at a quiz, ordered by attempt number."""
        ids = self._attempts_by_user.get((quizid, userid), [])
        return sorted((self.attempts[i] for i in ids), key=lambda a: a.attempt)

    def quiz_attempts(self, quizid: int) -> list[Attempt]:
        """Every attempt at a quiz, ordered by id."""
        return sorted((a for a in self.attempts.values() if a.quiz == quizid), key=lambda a: a.id)

    def attempt_by_uniqueid(self, uniqueid: int) -> Attempt | None:
        """The attempt of a question usage id."""
        attemptid = self._attempt_by_uniqueid.get(uniqueid)
        return self.attempts.get(attemptid) if attemptid is not None else None

    def course_users(self, courseid: int) -> list[tuple[User, Role]]:
        """Enrolled users of a course, ordered by id."""
        enrolled = self.enrolments.get(courseid, {})
        return [(self.users[uid], enrolled[uid]) for uid in sorted(enrolled)]

    def user_courses(self, userid: int) -> list[Course]:
        """Courses a user is enrolled in, in course sort order."""
        found = [c for cid, users in self.enrolments.items() if userid in users for c in [self.courses[cid]]]
        return sorted(found, key=lambda c: c.sortorder)

    def user_groups(self, courseid: int, userid: int) -> list[Group]:
        """The groups of a course a user belongs to."""
        return [g for g in self.groups.values() if g.courseid == courseid and userid in g.members]

    def module_for(self, modname: str, instance: int) -> CourseModule:
        """The course module of an activity instance."""
        for module in self.modules.values():
            if module.modname == modname and module.instance == instance:
                return module
        raise KeyError((modname, instance))

    def context_path(self, contextid: int) -> list[ContextInfo]:
        """The context and its ancestors, root first."""
        chain = []
        current: int | None = contextid
        while current is not None:
            info = self.contexts[current]
            chain.append(info)
            current = info.parent
        return list(reversed(chain))

    def question_contextid(self, quiz: Quiz) -> int:
        """The context the quiz's questions live in (course on 4.x, the qbank module on 5.0)."""
        return quiz.slots[0].question.contextid if quiz.slots else self.courses[quiz.course].contextid

    def has_capability(self, capability: str) -> bool:
        """Whether the service user holds `capability` (system-level role)."""
        with self.lock:
            return capability in self.capabilities

    def next_draft_itemid(self) -> int:
        """A new draft area item id (deterministic per world)."""
        with self.lock:
            self._next_draft_itemid += 1
            return 100000000 + self.seed * 1000 + self._next_draft_itemid

    # --- attempts -------------------------------------------------------------------------------------
    def detail(self, attempt: Attempt) -> AttemptDetail:
        """The responses, marks and steps of an attempt (generated on first use, then cached)."""
        with self.lock:
            cached = self._details.get(attempt.id)
            if cached is not None:
                return cached
        quiz, user = self.quizzes[attempt.quiz], self.users[attempt.userid]
        built = generate_detail(self.seed, self.profile, quiz, attempt, user)
        with self.lock:
            return self._details.setdefault(attempt.id, built)

    def attempt_expectations(self, attemptid: int) -> AttemptExpectations:
        """What a correct PDF of this attempt must show: texts, responses, right answers per slot."""
        attempt = self.attempts[attemptid]
        user = self.users[attempt.userid]
        return build_expectations(self.quizzes[attempt.quiz], attempt, user, self.detail(attempt))

    def best_grade(self, quiz: Quiz, userid: int) -> float | None:
        """`quiz_grades.grade` for a user (highest graded finished attempt), rounded like the DB stores it."""
        best: float | None = None
        for attempt in self.user_attempts(quiz.id, userid):
            if attempt.state != "finished":
                continue
            sumgrades = self.detail(attempt).sumgrades
            if sumgrades is None:
                continue
            scaled = sumgrades * quiz.grade / quiz.sumgrades
            best = scaled if best is None else max(best, scaled)
        return round(best, 5) if best is not None else None
