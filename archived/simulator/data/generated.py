"""Generated courses for the size knob: many students, a reference-like quiz with many attempts, submissions.

Only lightweight records are created here (users, enrolments, attempt stubs with seeds); the responses and
the review HTML of an attempt are produced when it is first read, so 2,000 attempts build in well under a
second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from archived.simulator.data.documents import make_pdf
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
    Section,
    Submission,
    User,
)
from archived.simulator.data.recorded import TEACHER_ID, group_description_body, user_context
from archived.simulator.data.world import CONTEXT_COURSE, CONTEXT_COURSECAT, CONTEXT_MODULE, World
from archived.simulator.questions.catalog import EXAM_MAXMARKS, exam_questions
from archived.simulator.size import SimulatorSize
from archived.simulator.storedfile import StoredFile

FIRST_NAMES = [
    "Jürgen",
    "Zoë",
    "Anna",
    "Lukas",
    "Élodie",
    "Søren",
    "Małgorzata",
    "Ben",
    "Çağla",
    "Ōta",
    "Niamh",
    "José",
    "Ångström",
    "Íñigo",
    "Dorothée",
    "Mikuláš",
    "Þóra",
    "Chloé",
    "Oğuz",
    "Agnieszka",
    "Ludwig",
    "Zdeněk",
    "Mia",
    "Noah",
    "Leonie",
    "Emil",
    "Hannah",
    "Yusuf",
    "Sofía",
    "Aurélien",
]
LAST_NAMES = [
    "Müller",
    "Ōtsuka",
    "Martin",
    "Schmidt",
    "Dubois",
    "Johansson",
    "Kowalska",
    "Weber",
    "Yılmaz",
    "Nakamura",
    "O'Brien",
    "García",
    "Lindqvist",
    "Núñez",
    "Lefèvre",
    "Dvořák",
    "Guðmundsdóttir",
    "Bäcker",
    "Şahin",
    "Wiśniewska",
    "Fischer",
    "Novák",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Wolf",
    "Peña",
    "Rousseau",
]
CITIES = ["Berlin", "Kyōto", "Lyon", "Hamburg", "Montréal", "Århus", "Kraków", "München", "İzmir", "Reykjavík"]


@dataclass
class IdCounters:
    """Next free ids per table, starting after the recorded site's records."""

    user: int = 13
    course: int = 5
    section: int = 15
    cm: int = 7
    quiz: int = 3
    assign: int = 2
    question: int = 15
    attempt: int = 15
    submission: int = 6
    grade: int = 4
    group: int = 3
    context: int = 100000
    step: int = 100000

    def take(self, name: str, count: int = 1) -> int:
        """Reserve `count` ids of table `name` and return the first."""
        first: int = getattr(self, name)
        setattr(self, name, first + count)
        return first


def add_module(
    world: World,
    ids: IdCounters,
    course: Course,
    modname: str,
    instance: int,
    section: int,
    name: str,
    *,
    hidden: bool = False,
) -> CourseModule:
    """Create a course module (and its context) in `section` of `course`."""
    cmid, contextid = ids.take("cm"), ids.take("context")
    module = CourseModule(
        cmid,
        course.id,
        modname,
        instance,
        section,
        contextid,
        name,
        visible=0 if hidden else 1,
        hidden_from_contents=hidden,
    )
    world.modules[cmid] = module
    label = {"quiz": "Quiz", "assign": "Assignment", "qbank": "Question bank"}[modname]
    world.add_context(contextid, CONTEXT_MODULE, cmid, course.contextid, f"{name} ({label})")
    next(s for s in course.sections if s.section == section).modules.append(cmid)
    return module


def add_students(world: World, ids: IdCounters, rng: random.Random, course: Course, count: int) -> list[int]:
    """Create `count` students with seeded international names and enrol them in `course`."""
    created = []
    for index in range(count):
        userid = ids.take("user")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"s{course.id:03d}{index + 1:04d}"
        user = User(
            userid,
            username,
            first,
            last,
            f"{username}@students.example.edu",
            str(8000000 + userid),
            user_context(userid),
            department="Faculty of Science",
            institution="Example University",
            city=rng.choice(CITIES),
            country="DE",
            password=f"{username}-Pa55!",
        )
        world.users[userid] = user
        world.add_context(user.contextid, 30, userid, 1, user.fullname)
        world.enrol(course.id, userid, STUDENT)
        created.append(userid)
    return created


def _quiz(world: World, ids: IdCounters, course: Course, number: int) -> Quiz:
    t0 = world.profile.population_time
    quizid = ids.take("quiz")
    if world.profile.qbank_module_context:
        bank = add_module(
            world, ids, course, "qbank", quizid, 0, f"{course.fullname} course question bank", hidden=True
        )
        bank_context = bank.contextid
    else:
        bank_context = course.contextid
    name = f"Exam {number:03d}: Mathematics I"
    module = add_module(world, ids, course, "quiz", quizid, 1, name)
    questions = exam_questions(ids.take("question", 11), bank_context)
    slots = [QuizSlot(i + 1, i // 4, EXAM_MAXMARKS[i], q) for i, q in enumerate(questions)]
    feedback = [
        FeedbackBand(1000 + 3 * quizid, "<p>Excellent work! \\( \\checkmark \\)</p>", 85.0, 101.0),
        FeedbackBand(1001 + 3 * quizid, "<p>Passed.</p>", 50.0, 85.0),
        FeedbackBand(1002 + 3 * quizid, "<p>Not passed. Please register for the resit exam.</p>", 0.0, 50.0),
    ]
    quiz = Quiz(
        quizid,
        module.id,
        course.id,
        name,
        "<p>Generated exam with \\( 11 \\) questions, worth \\[ \\sum_i m_i = 24 \\] marks.</p>",
        module.contextid,
        1,
        t0 - 176400,
        t0 + 5184000,
        100.0,
        0,
        4,
        slots,
        feedback,
        t0,
        t0,
        gradepass=50.0,
    )
    world.quizzes[quizid] = quiz
    return quiz


def _attempts(
    world: World, ids: IdCounters, rng: random.Random, quiz: Quiz, students: list[int], size: SimulatorSize
) -> None:
    t0 = world.profile.population_time
    steps_per_attempt = 4 * len(quiz.slots)
    for position, userid in enumerate(students):
        finished = size.attempts_per_student
        for number in range(1, finished + 1):
            attemptid = ids.take("attempt")
            start = t0 - 172800 - 86400 * (finished - number) + 7 * position
            finish = start + rng.randrange(1800, 5400)
            plan = AttemptPlan(
                seed=f"gen-{attemptid}",
                skill=rng.uniform(0.35, 0.95),
                flag_rate=0.05,
                essay_graded=rng.random() >= size.ungraded,
            )
            world.add_attempt(
                Attempt(
                    attemptid,
                    quiz.id,
                    userid,
                    number,
                    attemptid,
                    "finished",
                    start,
                    finish,
                    finish + 86400,
                    None,
                    finish,
                    plan,
                    step_base=ids.take("step", steps_per_attempt),
                )
            )
        if rng.random() < size.inprogress:
            attemptid = ids.take("attempt")
            start = t0 - 1800 - position
            plan = AttemptPlan(
                seed=f"gen-{attemptid}", skill=0.7, answered_slots=rng.randrange(1, len(quiz.slots)), seen_pages=2
            )
            world.add_attempt(
                Attempt(
                    attemptid,
                    quiz.id,
                    userid,
                    finished + 1,
                    attemptid,
                    "inprogress",
                    start,
                    0,
                    start + 600,
                    quiz.timeclose,
                    None,
                    plan,
                    step_base=ids.take("step", steps_per_attempt),
                )
            )


def _assignment(world: World, ids: IdCounters, rng: random.Random, course: Course, students: list[int]) -> None:
    t0 = world.profile.population_time
    assignid = ids.take("assign")
    module = add_module(world, ids, course, "assign", assignid, 2, "Lab report: error estimates")
    world.assigns[assignid] = Assign(
        assignid,
        module.id,
        course.id,
        "Lab report: error estimates",
        "<p>Estimate the error of Simpson's rule \\( E = -\\frac{(b-a)^5}{180 n^4} f^{(4)}(\\xi) \\).</p>",
        module.contextid,
        2,
        t0 + 172800,
        t0 - 1209600,
        t0 + 777600,
        100,
        t0,
    )
    subs = world.submissions.setdefault(assignid, {})
    grades = world.assign_grades.setdefault(assignid, {})
    for position, userid in enumerate(students):
        roll = rng.random()
        if roll > 0.85:
            continue
        user = world.users[userid]
        subid = ids.take("submission")
        created = t0 - 400000 + 97 * position
        status = "draft" if roll > 0.75 else "submitted"
        files = []
        if rng.random() < 0.7:
            name = f"report-{user.username}.pdf"
            lines = ["Lab report: error estimates", f"{user.fullname}, {user.idnumber}", f"Submission {subid}"]
            files.append(
                world.add_file(
                    StoredFile(
                        module.contextid,
                        "assignsubmission_file",
                        "submission_files",
                        subid,
                        "/",
                        name,
                        "application/pdf",
                        created,
                        created + 600,
                        producer=lambda lines=lines: make_pdf(lines),
                        license="allrightsreserved",
                        userid=userid,
                        author=user.fullname,
                    )
                )
            )
        text = f"<p>Abstract by {user.firstname}: Simpson's rule is of order \\( h^4 \\).</p>"
        subs[userid] = Submission(subid, assignid, userid, status, created, created + 600, text, files)
        if status == "submitted" and rng.random() < 0.6:
            gradeid = ids.take("grade")
            value = float(rng.randrange(40, 101))
            grades[userid] = AssignGrade(
                gradeid,
                assignid,
                userid,
                t0 - 86400,
                t0 - 86400,
                TEACHER_ID,
                value,
                f"<p>{int(value)} points.</p>",
                gradeddate=t0 - 86400,
            )


GENERATED_CATEGORY = 4


def generated_category(world: World, ids: IdCounters) -> int:
    """The category of generated courses (created on first use); returns its context id."""
    existing = world.categories.get(GENERATED_CATEGORY)
    if existing is not None:
        return existing.contextid
    contextid = ids.take("context")
    world.categories[GENERATED_CATEGORY] = Category(
        GENERATED_CATEGORY,
        "Generated courses",
        "GEN",
        "<p>Courses generated by the simulator.</p>",
        2,
        40000,
        contextid,
        world.profile.population_time,
        path="/2/4",
    )
    parent = world.categories[2].contextid
    world.add_context(contextid, CONTEXT_COURSECAT, GENERATED_CATEGORY, parent, "Generated courses")
    return contextid


def new_course(world: World, ids: IdCounters, shortname: str, fullname: str, summary: str, sortorder: int) -> Course:
    """A topics course with three sections in the generated category, with the teacher enrolled."""
    t0 = world.profile.population_time
    category_context = generated_category(world, ids)
    courseid = ids.take("course")
    contextid = ids.take("context")
    course = Course(
        courseid,
        shortname,
        fullname,
        GENERATED_CATEGORY,
        summary,
        "topics",
        t0 - 5184000,
        t0 + 7776000,
        contextid,
        sortorder,
        t0,
        t0,
        courseformatoptions=[("hiddensections", 1), ("coursedisplay", 0), ("indentation", "1")],
    )
    course.sections = [
        Section(ids.take("section"), courseid, index, name)
        for index, name in enumerate(("General", "New section", "New section"))
    ]
    world.courses[courseid] = course
    world.add_context(contextid, CONTEXT_COURSE, courseid, category_context, course.fullname)
    world.enrol(courseid, TEACHER_ID, EDITING_TEACHER)
    return course


def add_generated_courses(world: World, size: SimulatorSize, ids: IdCounters) -> None:
    """Add `size.courses` generated courses (and their category) to `world`."""
    for number in range(1, size.courses + 1):
        course = new_course(
            world,
            ids,
            f"GEN{number:03d}-WS2026",
            f"Generated exam course {number:03d}",
            f"<p>Generated course {number} with \\( {size.students} \\) students.</p>",
            40000 + number,
        )
        courseid = course.id
        course_rng = random.Random(f"{world.seed}|course|{number}")
        students = add_students(world, ids, course_rng, course, size.students)
        half = (len(students) + 1) // 2
        for offset, members in enumerate((students[:half], students[half:])):
            groupid = ids.take("group")
            description = f'<div class="text_to_html">Test Group {groupid:04d}<br />\n{group_description_body()}</div>'
            world.groups[groupid] = Group(
                groupid, courseid, f"Exam room {chr(ord('A') + offset)}", description, members
            )
        quiz = _quiz(world, ids, course, number)
        _attempts(world, ids, course_rng, quiz, students, size)
        _assignment(world, ids, course_rng, course, students)
