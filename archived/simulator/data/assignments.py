"""The optional assignment showcase: a course whose two assignments show every case the assignment driver meets.

"Lab journal" (individual, 100 points, blind marking, Annotate PDF on, late penalty on): an online text with a
formula and an embedded image, submitted files, feedback comments, feedback files and an annotated PDF; a student
with a previous attempt (reopened, graded, resubmitted); a late submission whose gradebook grade on 5.0 is the
raw grade minus the penalty; and a student whose enrolment was removed after grading — the
grade stays in `get_grades`, `get_submissions` drops them, `get_submission_status` answers `nopermission`.
"Group project" (team submissions, graded on a scale): one submission per group (`userid` 0) that every member
sees as `teamsubmission`.

The journal is graded with a rubric (two criteria, the first student's grade filled in) and the first student's
submission has two submission comments, one of them HTML. The showcase adds the optional functions that read them
(`core_grading_*`, `core_comment_get_comments`) to the archiver service and grants the capabilities they need, as
a site that wants rubrics and comments archived does; a test takes a function away with
`MoodleSimulator.set_service_functions`.
"""

from __future__ import annotations

import random

from archived.simulator.data.documents import asset, make_pdf
from archived.simulator.data.generated import IdCounters, add_module, add_students, new_course
from archived.simulator.data.model import (
    Assign,
    AssignGrade,
    Comment,
    GradingDefinition,
    GradingInstance,
    Group,
    RubricCriterion,
    RubricLevel,
    Submission,
)
from archived.simulator.data.recorded import TEACHER_ID
from archived.simulator.data.world import World
from archived.simulator.storedfile import StoredFile

JOURNAL_NAME = "Lab journal: pendulum"
PROJECT_NAME = "Group project: wave tank"
SCALE = ("Not yet", "Satisfactory", "Good", "Excellent")
STUDENTS = 6
RUBRIC_NAME = "Lab journal rubric"
# The optional functions the showcase site offers its archiver, and the capabilities they need.
GRADING_AND_COMMENT_FUNCTIONS = (
    "core_grading_get_definitions",
    "core_grading_get_gradingform_instances",
    "core_comment_get_comments",
)
GRADING_AND_COMMENT_CAPABILITIES = ("moodle/grade:managegradingforms", "moodle/comment:view")


def add_assignment_showcase(world: World, ids: IdCounters) -> None:
    """Add the course "Assignments showcase" with its two assignments and six students."""
    t0 = world.profile.population_time
    course = new_course(
        world, ids, "ASSIGN-SHOW", "Assignments showcase",
        "<p>Every case of an assignment archive: texts, files, feedback, teams, attempts, departed students.</p>",
        49997,
    )  # fmt: skip
    students = add_students(world, ids, random.Random(f"assign-showcase:{world.seed}"), course, STUDENTS)
    _journal(world, ids, course.id, students, t0)
    _project(world, ids, course.id, students, t0)
    world.service.functions.extend(f for f in GRADING_AND_COMMENT_FUNCTIONS if f not in world.service.functions)
    world.capabilities.update(GRADING_AND_COMMENT_CAPABILITIES)


def _file(world: World, contextid: int, component: str, area: str, itemid: int, name: str, mime: str,
          when: int, content: bytes, userid: int) -> StoredFile:  # fmt: skip
    return world.add_file(
        StoredFile(contextid, component, area, itemid, "/", name, mime, when, when, source=content,
                   license="allrightsreserved", userid=userid)
    )  # fmt: skip


def _journal(world: World, ids: IdCounters, courseid: int, students: list[int], t0: int) -> None:
    course = world.courses[courseid]
    assignid = ids.take("assign")
    module = add_module(world, ids, course, "assign", assignid, 2, JOURNAL_NAME)
    ctx = module.contextid
    world.assigns[assignid] = Assign(
        assignid, module.id, courseid, JOURNAL_NAME,
        "<p>Measure the period \\( T = 2\\pi\\sqrt{\\ell/g} \\) of a pendulum and hand in your journal.</p>",
        ctx, 2, t0 + 86400, t0 - 864000, t0 + 604800, 100, t0 - 100, blindmarking=1, editpdf=True,
        gradepenalty=1,
    )  # fmt: skip
    subs = world.submissions.setdefault(assignid, {})
    grades = world.assign_grades.setdefault(assignid, {})
    first, second, third, departed = students[0], students[1], students[2], students[5]
    created = t0 - 400000

    # 1: online text with a formula and an embedded image, two files, feedback comments, files, annotated PDF.
    subid = ids.take("submission")
    _file(world, ctx, "assignsubmission_onlinetext", "submissions_onlinetext", subid, "pendulum.png", "image/png",
          created, asset("triangle_diagram.png"), first)  # fmt: skip
    journal = _file(world, ctx, "assignsubmission_file", "submission_files", subid, "journal.pdf",
                    "application/pdf", created, make_pdf(["Lab journal", "Pendulum", "T = 2.01 s"]), first)  # fmt: skip
    data = _file(world, ctx, "assignsubmission_file", "submission_files", subid, "periods.csv", "text/csv",
                 created, b"run,period_s\n1,2.01\n2,2.02\n", first)  # fmt: skip
    text = (
        "<p>Pendulum journal: we measured \\( T \\approx 2.01\\,\\mathrm{s} \\) "
        "for \\( \\ell = 1\\,\\mathrm{m} \\).</p>"
        '<p><img src="@@PLUGINFILE@@/pendulum.png" alt="set-up" width="120"></p>'
    )
    subs[first] = Submission(subid, assignid, first, "submitted", created, created + 600, text, [journal, data])
    gradeid = ids.take("grade")
    grade = AssignGrade(gradeid, assignid, first, t0 - 86400, t0 - 86400, TEACHER_ID, 88.5,
                        "<p>Careful measurements; the error bars are missing.</p>", gradeddate=t0 - 86400)  # fmt: skip
    grade.feedback_files.append(_file(world, ctx, "assignfeedback_file", "feedback_files", gradeid,
                                      "marked-rubric.txt", "text/plain", t0 - 86400, b"Method 4/4, Analysis 3/4\n",
                                      TEACHER_ID))  # fmt: skip
    grade.annotated_files.append(_file(world, ctx, "assignfeedback_editpdf", "download", gradeid, "journal.pdf",
                                       "application/pdf", t0 - 86400,
                                       make_pdf(["Lab journal", "Pendulum", "ANNOTATED: add error bars"]),
                                       TEACHER_ID))  # fmt: skip
    grades[first] = grade
    _rubric(world, module.id, grade, t0)
    _comments(world, ctx, subid, first, t0)

    # 2: a previous attempt (graded 40, reopened), then a second attempt graded 75.
    old_id, new_id = ids.take("submission"), ids.take("submission")
    old = Submission(old_id, assignid, second, "reopened", created, created + 300,
                     "<p>First try: the period is about one second.</p>")  # fmt: skip
    old_grade = AssignGrade(ids.take("grade"), assignid, second, t0 - 300000, t0 - 300000, TEACHER_ID, 40.0,
                            "<p>Measure again: ten swings, not one.</p>", gradeddate=t0 - 300000)  # fmt: skip
    subs[second] = Submission(new_id, assignid, second, "submitted", t0 - 200000, t0 - 199000,
                              "<p>Second try: ten swings give T = 2.00 s.</p>", attemptnumber=1,
                              previous=[(old, old_grade)])  # fmt: skip
    grades[second] = AssignGrade(ids.take("grade"), assignid, second, t0 - 80000, t0 - 80000, TEACHER_ID, 75.0,
                                 "<p>Much better.</p>", attemptnumber=1, gradeddate=t0 - 80000)  # fmt: skip

    # 3: submitted, not graded yet.
    subs[third] = Submission(ids.take("submission"), assignid, third, "submitted", created, created + 900,
                             "<p>Journal of the third student, waiting for a grade.</p>")  # fmt: skip

    # 4: submitted late, graded 90; on 5.0 the gradebook shows 80 after the late penalty.
    late = students[3]
    subs[late] = Submission(ids.take("submission"), assignid, late, "submitted", t0 + 90000, t0 + 90000,
                            "<p>Late journal, but complete.</p>")  # fmt: skip
    grades[late] = AssignGrade(ids.take("grade"), assignid, late, t0 + 95000, t0 + 95000, TEACHER_ID, 90.0,
                               "<p>Good, but late.</p>", gradeddate=t0 + 95000, penalty=10.0)  # fmt: skip

    # 6: graded, then the enrolment was removed: the grade stays, the submission is out of reach.
    gone = ids.take("submission")
    subs[departed] = Submission(gone, assignid, departed, "submitted", created, created + 1200,
                                "<p>Journal of a student who left.</p>",
                                [_file(world, ctx, "assignsubmission_file", "submission_files", gone, "left.pdf",
                                       "application/pdf", created, make_pdf(["Left"]), departed)])  # fmt: skip
    grades[departed] = AssignGrade(ids.take("grade"), assignid, departed, t0 - 86000, t0 - 86000, TEACHER_ID, 66.0,
                                   "<p>Fine.</p>", gradeddate=t0 - 86000)  # fmt: skip
    del world.enrolments[courseid][departed]


def _project(world: World, ids: IdCounters, courseid: int, students: list[int], t0: int) -> None:
    course = world.courses[courseid]
    assignid = ids.take("assign")
    module = add_module(world, ids, course, "assign", assignid, 2, PROJECT_NAME)
    ctx = module.contextid
    world.assigns[assignid] = Assign(
        assignid, module.id, courseid, PROJECT_NAME, "<p>Build a wave tank in teams of two.</p>",
        ctx, 2, t0 + 86400, t0 - 864000, t0 + 604800, -1, t0 - 100, teamsubmission=1, scale=SCALE,
    )  # fmt: skip
    team_a, team_b = ids.take("group"), ids.take("group")
    world.groups[team_a] = Group(team_a, courseid, "Team A", "", [students[0], students[1]])
    world.groups[team_b] = Group(team_b, courseid, "Team B", "", [students[2], students[3]])
    subs = world.submissions.setdefault(assignid, {})
    subid = ids.take("submission")
    report = _file(world, ctx, "assignsubmission_file", "submission_files", subid, "wave-tank.pdf",
                   "application/pdf", t0 - 50000, make_pdf(["Wave tank", "Team A"]), students[0])  # fmt: skip
    # A team submission has no user (userid 0); the simulator keys it by the negated group id.
    subs[-team_a] = Submission(subid, assignid, 0, "submitted", t0 - 50000, t0 - 49000,
                               "<p>Team A: our tank makes standing waves.</p>", [report], groupid=team_a)  # fmt: skip
    grades = world.assign_grades.setdefault(assignid, {})
    for member in (students[0], students[1]):
        grades[member] = AssignGrade(ids.take("grade"), assignid, member, t0 - 40000, t0 - 40000, TEACHER_ID, 3.0,
                                     "<p>Good teamwork.</p>", gradeddate=t0 - 40000)  # fmt: skip


def _rubric(world: World, cmid: int, grade: AssignGrade, t0: int) -> None:
    """A rubric of two criteria on the journal, filled in for the first student's grade."""
    method = RubricCriterion(1, 1, "Method: how the period was measured", [
        RubricLevel(1, 0, "No method described"), RubricLevel(2, 2, "One swing timed"),
        RubricLevel(3, 4, "Ten swings timed, repeated"),
    ])  # fmt: skip
    analysis = RubricCriterion(2, 2, "Analysis: <em>uncertainty</em> and comparison with theory", [
        RubricLevel(4, 0, "No analysis"), RubricLevel(5, 2, "Compared with theory"),
        RubricLevel(6, 3, "Compared, uncertainty estimated"), RubricLevel(7, 4, "Full error analysis with error bars"),
    ])  # fmt: skip
    filled = GradingInstance(1, TEACHER_ID, grade.id, 87.5, grade.timemodified, {
        1: (3, "<p>Ten swings, three runs: good.</p>"), 2: (6, "Error bars missing in the plot."),
    })  # fmt: skip
    world.grading[cmid] = GradingDefinition(1, RUBRIC_NAME, "<p>How the journal is marked.</p>", t0 - 864000,
                                            TEACHER_ID, [method, analysis], [filled])  # fmt: skip


def _comments(world: World, contextid: int, submissionid: int, student: int, t0: int) -> None:
    """Two submission comments on one submission: the student's plain question and the teacher's HTML answer."""
    area = ("assignsubmission_comments", "submission_comments", submissionid)
    world.comments.append(Comment(1, contextid, *area, "Is the second data file needed as well?", 0, student,
                                  t0 - 390000))  # fmt: skip
    world.comments.append(Comment(2, contextid, *area, "<p>Yes, please keep <strong>periods.csv</strong>: "
                                  "the rubric asks for the raw data.</p>", 1, TEACHER_ID, t0 - 380000))  # fmt: skip
