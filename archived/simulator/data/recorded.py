"""The default world: the site the fixtures in `shared/fixtures/moodle-4.5` and `moodle-5.0` were recorded from.

Ids, names, texts and timestamps are those of the recordings (timestamps relative to each site's population
time, so the 5.0 profile reproduces the 5.0 clock). Attempt responses are seeded, with the outcomes forced
where the recordings pin them down (marks, the ungraded essays, the in-progress attempt).
"""

from __future__ import annotations

import hashlib

from archived.simulator.data.documents import asset, make_pdf, trapezoid_script
from archived.simulator.data.model import (
    EDITING_TEACHER,
    STUDENT,
    Assign,
    AssignGrade,
    Attempt,
    AttemptPlan,
    Category,
    Course,
    CourseModule,
    FeedbackBand,
    Group,
    Quiz,
    QuizSlot,
    Resource,
    Section,
    Submission,
    Token,
    User,
)
from archived.simulator.data.texts import LOREM_PARAGRAPHS
from archived.simulator.data.world import (
    CONTEXT_COURSE,
    CONTEXT_COURSECAT,
    CONTEXT_MODULE,
    CONTEXT_SYSTEM,
    CONTEXT_USER,
    Service,
    World,
)
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.questions.base import PARTIAL, RIGHT, WRONG
from archived.simulator.questions.catalog import (
    EXAM_MAXMARKS,
    RECORDED_ESSAY_EDUBOIS,
    RECORDED_ESSAY_JMUELLER,
    exam_questions,
    midterm_questions,
)
from archived.simulator.storedfile import StoredFile

SERVICE_USER_ID = 12
SERVICE_PASSWORD = "Archiver-Pa55!"

# (id, username, first, last, idnumber, city) of the students of the recorded site.
STUDENTS = [
    (3, "jmueller", "Jürgen", "Müller", "4711001", "Berlin"),
    (4, "zotsuka", "Zoë", "Ōtsuka", "4711002", "Kyōto"),
    (5, "amartin", "Anna", "Martin", "4711003", "Lyon"),
    (6, "lschmidt", "Lukas", "Schmidt", "4711004", "Hamburg"),
    (7, "edubois", "Élodie", "Dubois", "4711005", "Montréal"),
    (8, "sjohansson", "Søren", "Johansson", "4711006", "Århus"),
    (9, "mkowalska", "Małgorzata", "Kowalska", "4711007", "Kraków"),
    (10, "bweber", "Ben", "Weber", "4711008", "München"),
]
TEACHER_ID = 11

COURSE_A, COURSE_B, COURSE_C = 2, 3, 4
QUIZ_EXAM, QUIZ_MIDTERM = 1, 2
ASSIGN_LAB = 1


def token_for(seed: int) -> str:
    """The deterministic default web-service token of a seed (32 hex characters)."""
    return hashlib.sha256(f"archived-simulator-token:{seed}".encode()).hexdigest()[:32]


def user_context(userid: int) -> int:
    """Context id of a user (kept clear of the recorded course and module contexts)."""
    return 100 + userid


def _users(world: World) -> None:
    add = world.users.__setitem__
    add(2, User(2, "admin", "Admin", "User", "admin@example.edu", "", user_context(2)))
    for userid, username, first, last, idnumber, city in STUDENTS:
        add(
            userid,
            User(
                userid,
                username,
                first,
                last,
                f"{username}@students.example.edu",
                idnumber,
                user_context(userid),
                department="Faculty of Science",
                institution="Example University",
                city=city,
                country="DE",
                password=f"{username}-Pa55!",
            ),
        )
    add(
        TEACHER_ID,
        User(
            TEACHER_ID,
            "emustermann",
            "Erika",
            "Mustermann",
            "erika.mustermann@staff.example.edu",
            "T-0815",
            user_context(TEACHER_ID),
            department="Department of Mathematics",
            institution="Example University",
            city="Berlin",
            country="DE",
        ),
    )
    add(
        SERVICE_USER_ID,
        User(
            SERVICE_USER_ID,
            "archiver",
            "Archive",
            "Service",
            "archiver@example.edu",
            "SVC-ARCHIVER",
            user_context(SERVICE_USER_ID),
            institution="Example University",
            password=SERVICE_PASSWORD,
        ),
    )
    for user in world.users.values():
        world.add_context(user.contextid, CONTEXT_USER, user.id, 1, user.fullname)


def _categories(world: World, t0: int) -> None:
    world.add_context(1, CONTEXT_SYSTEM, 0, None, "System")
    for category in (
        Category(1, "Category 1", "", "", 0, 10000, 3, t0 - 900, path="/1"),
        Category(
            2, "Faculty of Science", "FSCI", "<p>Courses of the Faculty of Science.</p>", 0, 20000, 11, t0, path="/2"
        ),
        Category(
            3,
            "Exams",
            "FSCI-EXAMS",
            "<p>Written exams (e-exams) of the Faculty of Science.</p>",
            2,
            30000,
            12,
            t0,
            path="/2/3",
        ),
    ):
        world.categories[category.id] = category
        parent = world.categories[category.parent].contextid if category.parent else 1
        world.add_context(category.contextid, CONTEXT_COURSECAT, category.id, parent, category.name)


def _week_names() -> list[str]:
    return ["29 September - 5 October", "6 October - 12 October", "13 October - 19 October", "20 October - 26 October"]


def _courses(world: World, t0: int) -> None:
    profile = world.profile
    new_section = "New section" if profile.at_least(4, 4) else None
    site = Course(
        1,
        world.site_shortname,
        world.site_name,
        0,
        "",
        "site",
        0,
        0,
        2,
        1,
        t0 - 900,
        t0 - 900,
        summaryformat=0,
        enablecompletion=0,
    )
    exam = Course(
        COURSE_A,
        "EXAM-WS2026",
        "Exam WS2026",
        3,
        "<p>Final written e-exam <strong>Mathematics I</strong>, winter semester 2026/27. Topics: fractions "
        "\\( \\frac{a}{b} \\), sums \\[ \\sum_{i=1}^n i \\] and numerical integration.</p>",
        "topics",
        t0 - 5184000,
        t0 + 7776000,
        13,
        30002,
        t0,
        t0,
        courseformatoptions=[("hiddensections", 1), ("coursedisplay", 0), ("indentation", "1")],
    )
    linear = Course(
        COURSE_B,
        "LA1-WS2026",
        "Linear Algebra I",
        2,
        "<p>Lecture with weekly self-tests and a midterm quiz on matrices "
        "\\( A \\in \\mathbb{R}^{n \\times n} \\).</p>",
        "weeks",
        t0 - 5184000,
        t0 - 2761200,
        14,
        20001,
        t0,
        t0,
        enablecompletion=0,
        courseformatoptions=[
            ("hiddensections", 1),
            ("coursedisplay", 0),
            ("automaticenddate", 1),
            ("indentation", "1"),
        ],
    )
    empty = Course(
        COURSE_C,
        "EMPTY-C",
        "Empty Course (no activities)",
        3,
        "",
        "topics",
        t0 - 864000,
        0,
        15,
        30001,
        t0,
        t0,
        enablecompletion=0,
        courseformatoptions=[("hiddensections", 1), ("coursedisplay", 0), ("indentation", "1")],
    )

    def topic(n: int) -> str:
        return new_section if new_section else f"Topic {n}"

    exam.sections = [
        Section(1, COURSE_A, 0, "General"),
        Section(2, COURSE_A, 1, topic(1)),
        Section(3, COURSE_A, 2, topic(2)),
    ]
    linear.sections = [Section(4, COURSE_B, 0, "General")] + [
        Section(5 + i, COURSE_B, i + 1, name) for i, name in enumerate(_week_names())
    ]
    empty.sections = [Section(9, COURSE_C, 0, "General")] + [
        Section(10 + i, COURSE_C, i + 1, topic(i + 1)) for i in range(5)
    ]
    for course in (site, exam, linear, empty):
        world.courses[course.id] = course
        parent = world.categories[course.categoryid].contextid if course.categoryid else 1
        world.add_context(course.contextid, CONTEXT_COURSE, course.id, parent, course.fullname)


def _enrolments(world: World) -> None:
    for userid, *_ in STUDENTS:
        world.enrol(COURSE_A, userid, STUDENT)
        if userid <= 6:
            world.enrol(COURSE_B, userid, STUDENT)
    for course in (COURSE_A, COURSE_B, COURSE_C):
        world.enrol(course, TEACHER_ID, EDITING_TEACHER)
    for groupid, name, members in ((1, "Exam room H1", [3, 4, 5, 6]), (2, "Exam room H2", [7, 8, 9, 10])):
        description = (
            f'<div class="text_to_html">Test Group {groupid:04d}<br />\n' + group_description_body() + "</div>"
        )
        world.groups[groupid] = Group(groupid, COURSE_A, name, description, members)


def group_description_body() -> str:
    """The lorem-ipsum description the data generator gives groups (one paragraph per line)."""
    return "<br />\n".join(LOREM_PARAGRAPHS)


def _module(
    world: World,
    cmid: int,
    course: int,
    modname: str,
    instance: int,
    section: int,
    contextid: int,
    name: str,
    *,
    hidden: bool = False,
) -> CourseModule:
    module = CourseModule(
        cmid,
        course,
        modname,
        instance,
        section,
        contextid,
        name,
        visible=0 if hidden else 1,
        hidden_from_contents=hidden,
    )
    world.modules[cmid] = module
    coursecontext = world.courses[course].contextid
    label = {"resource": "File", "quiz": "Quiz", "assign": "Assignment", "qbank": "Question bank"}[modname]
    world.add_context(contextid, CONTEXT_MODULE, cmid, coursecontext, f"{name} ({label})")
    sections = world.courses[course].sections
    next(s for s in sections if s.section == section).modules.append(cmid)
    return module


def _resource(world: World, t0: int) -> None:
    _module(world, 1, COURSE_A, "resource", 1, 0, 25, "Exam regulations (PDF)")
    stored = world.add_file(
        StoredFile(
            25,
            "mod_resource",
            "content",
            0,
            "/",
            "Exam regulations WS2026.pdf",
            "application/pdf",
            t0,
            t0,
            producer=lambda: make_pdf(
                ["Exam regulations WS2026", "1. Bring your student ID.", "2. No calculators.", "3. 90 minutes."], 718
            ),
            author="Admin User",
            license="allrightsreserved",
            userid=2,
        )
    )
    world.resources[1] = Resource(1, 1, COURSE_A, "Exam regulations (PDF)", stored)


def _quizzes(world: World, t0: int) -> None:
    profile = world.profile
    if profile.qbank_module_context:
        _module(world, 5, COURSE_A, "qbank", 1, 0, 29, "Exam WS2026 course question bank", hidden=True)
        _module(world, 6, COURSE_B, "qbank", 2, 0, 30, "Linear Algebra I course question bank", hidden=True)
        exam_ctx, midterm_ctx = 29, 30
    else:
        exam_ctx, midterm_ctx = 13, 14
    _module(world, 2, COURSE_A, "quiz", QUIZ_EXAM, 1, 26, "Final exam Mathematics I")
    _module(world, 4, COURSE_B, "quiz", QUIZ_MIDTERM, 1, 28, "Midterm quiz")
    questions = exam_questions(1, exam_ctx)
    slots = [QuizSlot(i + 1, i // 4, EXAM_MAXMARKS[i], q) for i, q in enumerate(questions)]
    world.quizzes[QUIZ_EXAM] = Quiz(
        QUIZ_EXAM,
        2,
        COURSE_A,
        "Final exam Mathematics I",
        "<p>Final e-exam, 90 minutes. Calculators are <em>not</em> allowed. Notation: \\( \\frac{a}{b} \\) is a "
        "fraction, \\[ \\sum_{i=1}^n i \\] a sum.</p>",
        26,
        1,
        t0 - 176400,
        t0 + 5184000,
        100.0,
        2,
        4,
        slots,
        [
            FeedbackBand(1, "<p>Excellent work! \\( \\checkmark \\)</p>", 85.0, 101.0),
            FeedbackBand(2, "<p>Passed. Review the topics you missed before the next course.</p>", 50.0, 85.0),
            FeedbackBand(3, "<p>Not passed. Please register for the resit exam.</p>", 0.0, 50.0),
        ],
        t0,
        t0,
        gradepass=50.0,
    )
    midterm = midterm_questions(12, midterm_ctx)
    world.quizzes[QUIZ_MIDTERM] = Quiz(
        QUIZ_MIDTERM,
        4,
        COURSE_B,
        "Midterm quiz",
        "<p>Short midterm quiz on matrices.</p>",
        28,
        1,
        0,
        0,
        10.0,
        1,
        0,
        [QuizSlot(i + 1, 0, 1.0, q) for i, q in enumerate(midterm)],
        [],
        t0,
        t0,
    )


def _exam_attempts(world: World, t0: int) -> None:
    quiz = world.quizzes[QUIZ_EXAM]
    graded = t0 + 1
    all_right = {slot: RIGHT for slot in range(1, 11)}

    def plan(seed: str, **kwargs: object) -> AttemptPlan:
        return AttemptPlan(seed=seed, generated=False, graded_time=graded, **kwargs)  # type: ignore[arg-type]

    plans: dict[int, tuple[int, int, AttemptPlan]] = {
        1: (
            3,
            1,
            plan(
                "exam-1",
                outcomes={**all_right, 7: PARTIAL + ":1"},
                essay_mark=9.5,
                essay_comment="<p>Very clean induction. Minor: state the induction hypothesis explicitly.</p>",
                attachments={11: ["Induktion_Skizze.pdf"]},
                responses={11: RECORDED_ESSAY_JMUELLER},
            ),
        ),
        2: (
            4,
            1,
            plan(
                "exam-2",
                outcomes={
                    1: RIGHT,
                    2: WRONG,
                    3: RIGHT,
                    4: RIGHT,
                    5: RIGHT,
                    6: RIGHT,
                    7: WRONG,
                    8: RIGHT,
                    9: RIGHT,
                    10: PARTIAL + ":1",
                },
                essay_mark=6.0,
            ),
        ),
        3: (5, 1, plan("exam-3", skill=0.75, essay_mark=7.5)),
        4: (6, 1, plan("exam-4", skill=0.6, essay_mark=5.0)),
        5: (7, 1, plan("exam-5", outcomes={**all_right, 3: WRONG}, responses={11: RECORDED_ESSAY_EDUBOIS})),
        6: (8, 1, plan("exam-6", skill=0.8, essay_mark=8.0)),
        7: (9, 1, plan("exam-7", skill=0.5, attachments={11: ["notes.pdf"]})),
        8: (
            10,
            1,
            plan(
                "exam-8",
                outcomes={
                    1: RIGHT,
                    2: WRONG,
                    3: RIGHT,
                    4: RIGHT,
                    5: WRONG,
                    6: WRONG,
                    7: PARTIAL + ":1",
                    8: WRONG,
                    9: WRONG,
                    10: WRONG,
                },
                essay_mark=2.0,
            ),
        ),
        9: (4, 2, plan("exam-9", outcomes={**all_right, 7: PARTIAL + ":1"}, essay_mark=10.0)),
    }
    for attemptid, (userid, number, attempt_plan) in plans.items():
        if attemptid == 9:
            start, finish = t0 - 86400, t0 - 86400 + 3300
        else:
            index = userid - 3
            start = t0 - 172800 + 60 * index
            finish = start + 4500 + 61 * index
        timemodified = graded if attempt_plan.essay_mark is not None else finish
        world.add_attempt(
            Attempt(
                attemptid,
                QUIZ_EXAM,
                userid,
                number,
                attemptid,
                "finished",
                start,
                finish,
                timemodified,
                None,
                finish,
                attempt_plan,
                step_base=0 if attemptid == 1 else 44 * (attemptid - 1),
            )
        )
    in_progress = AttemptPlan(
        seed="exam-10", generated=False, outcomes={1: RIGHT, 2: WRONG, 3: RIGHT}, answered_slots=3, seen_pages=1
    )
    world.add_attempt(
        Attempt(
            10,
            QUIZ_EXAM,
            10,
            2,
            10,
            "inprogress",
            t0 - 3600,
            0,
            t0 - 3000,
            quiz.timeclose,
            None,
            in_progress,
            step_base=44 * 9,
        )
    )
    midterm = world.quizzes[QUIZ_MIDTERM]
    for offset, userid in enumerate((3, 4, 5)):
        attemptid = 11 + offset
        start = t0 - 259200 + 600 * offset
        finish = start + 900 + 37 * offset
        world.add_attempt(
            Attempt(
                attemptid,
                midterm.id,
                userid,
                1,
                attemptid,
                "finished",
                start,
                finish,
                finish,
                None,
                finish,
                AttemptPlan(seed=f"midterm-{userid}", skill=0.7, generated=False),
                step_base=500 + 20 * offset,
            )
        )
    if world.profile.at_least(5, 0):
        # 5.0 only: a pre-created attempt in the new state `notstarted` (fixtures 61-63).
        world.add_attempt(
            Attempt(
                14,
                midterm.id,
                6,
                1,
                14,
                "notstarted",
                0,
                0,
                t0 + 2,
                None,
                None,
                AttemptPlan(seed="midterm-6", generated=False),
                step_base=600,
            )
        )


def _assignment(world: World, t0: int) -> None:
    _module(world, 3, COURSE_A, "assign", ASSIGN_LAB, 2, 27, "Lab report: numerical integration")
    world.assigns[ASSIGN_LAB] = Assign(
        ASSIGN_LAB,
        3,
        COURSE_A,
        "Lab report: numerical integration",
        "<p>Implement the trapezoidal rule for \\( \\int_0^1 x^2 \\, dx \\) and discuss the error term "
        "\\[ E = -\\frac{(b-a)^3}{12 n^2} f''(\\xi) \\]. Upload your report as PDF and paste the abstract as online "
        "text.</p>",
        27,
        2,
        t0 + 172800,
        t0 - 1209600,
        t0 + 777600,
        100,
        t0 + 1,
    )

    def submission_file(itemid: int, name: str, mimetype: str, producer: object) -> StoredFile:
        return world.add_file(
            StoredFile(
                27,
                "assignsubmission_file",
                "submission_files",
                itemid,
                "/",
                name,
                mimetype,
                t0 + 1,
                t0 + 1,
                producer=producer,
                license="allrightsreserved",
            )
        )

    rows = [
        (
            1,
            3,
            "submitted",
            "<p>Die Trapezregel mit \\( n = 10 \\) liefert \\( 0.335 \\); der Fehler ist \\( O(n^{-2}) \\).</p>",
            [("Laborbericht_Müller.pdf", "application/pdf", lambda: asset("Laborbericht_Mueller.pdf"))],
        ),
        (
            2,
            4,
            "submitted",
            "<p>Trapezoidal rule converges with order 2; see the attached report and script.</p>",
            [
                (
                    "report-otsuka.pdf",
                    "application/pdf",
                    lambda: make_pdf(["Lab report", "Z. Otsuka, 4711002", "Order of convergence: 2"], 671),
                ),
                ("trapez.py", "document/unknown", trapezoid_script),
            ],
        ),
        (3, 5, "submitted", "<p>Méthode des trapèzes: erreur en \\( h^2 \\).</p>", []),
        (
            4,
            6,
            "submitted",
            "",
            [
                (
                    "lab report schmidt.pdf",
                    "application/pdf",
                    lambda: make_pdf(["Lab report", "L. Schmidt, 4711004"], 632),
                )
            ],
        ),
        (5, 7, "draft", "<p>Brouillon — pas encore fini.</p>", []),
    ]
    subs = world.submissions.setdefault(ASSIGN_LAB, {})
    for subid, userid, status, text, files in rows:
        created = t0 - 432000 + 5400 * (subid - 1)
        stored = [submission_file(subid, name, mime, producer) for name, mime, producer in files]
        subs[userid] = Submission(subid, ASSIGN_LAB, userid, status, created, created + 1260, text, stored)
    grades = world.assign_grades.setdefault(ASSIGN_LAB, {})
    feedback = {
        3: "<p>Sehr gut. Die Fehlerabschätzung ist korrekt.</p>",
        4: "<p>Excellent report; the script is a nice touch.</p>",
        5: "<p>Correct idea, but the error term \\( E \\) is missing.</p>",
    }
    for gradeid, (userid, value) in enumerate(((3, 85.0), (4, 92.5), (5, 60.0)), start=1):
        created = t0 - 86400 + 900 * (gradeid - 1)
        grade = AssignGrade(
            gradeid, ASSIGN_LAB, userid, created, created, TEACHER_ID, value, feedback[userid], gradeddate=t0 + 1
        )
        if userid == 4:
            grade.feedback_files.append(
                world.add_file(
                    StoredFile(
                        27,
                        "assignfeedback_file",
                        "feedback_files",
                        gradeid,
                        "/",
                        "Korrekturen_Otsuka.pdf",
                        "application/pdf",
                        t0 + 1,
                        t0 + 1,
                        producer=lambda: make_pdf(["Korrekturen", "Z. Otsuka: 92.5 / 100"]),
                        author="Erika Mustermann",
                        license="allrightsreserved",
                        userid=TEACHER_ID,
                    )
                )
            )
        grades[userid] = grade


def build_recorded_world(profile: ReleaseProfile, seed: int, token: str) -> World:
    """The recorded site for `profile`; `token` is the archiver's web-service token."""
    t0 = profile.population_time
    world = World(
        profile=profile,
        seed=seed,
        now=t0 + 60,
        site_name=f"Archiver Test Site (Moodle {profile.name})",
        site_shortname=f"archtest{profile.site_suffix}",
        service=Service("archiver_service", "Archiver service", list(profile.service_functions)),
        service_user_id=SERVICE_USER_ID,
        privateaccesskey=hashlib.sha256(f"privateaccesskey:{seed}".encode()).hexdigest()[:32],
    )
    _users(world)
    _categories(world, t0)
    _courses(world, t0)
    _enrolments(world)
    _resource(world, t0)
    _quizzes(world, t0)
    _assignment(world, t0)
    _exam_attempts(world, t0)
    world.tokens[token] = Token(token, SERVICE_USER_ID)
    return world
