"""The two kinds of assignment report: the description (once per archive) and one per participant.

Both are composed with `ReportBuilder`; the participant report lists the latest attempt and every previous one
(Moodle's `previousattempts`, newest first, shown oldest first), each with its grade (and the rubric or marking
guide filled in for it), online text, feedback, files and submission comments. Grades are shown twice where they
differ: Moodle's raw decimal and `gradefordisplay` as the gradebook shows it (a scale item, or on 5.0 the grade
after a late penalty).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from lxml import html as lhtml

from archived.moodle.models import AssignGrade, Assignment, AssignPlugin, Submission, SubmissionStatus
from archived_assign.advanced_grading import FilledForm
from archived_assign.moodle_records import Person
from archived_assign.report import ReportBuilder, el, file_table, summary_table, when

# Files one attempt put in the archive: (Moodle file name, path in the archive, SHA-256), per plugin area.
StoredFiles = dict[str, list[tuple[str, str, str]]]


@dataclass(frozen=True)
class GradingView:
    """A rubric or marking guide filled in for an attempt's grade, with who filled it in (as the archive names
    people)."""

    form: FilledForm
    rater: str


@dataclass(frozen=True)
class CommentView:
    """One submission comment: its author (as the archive names people), time and Moodle's HTML."""

    author: str
    timecreated: int | None
    html: str


@dataclass(frozen=True)
class AttemptView:
    """One attempt as the report shows it."""

    number: int
    submission: Submission | None
    grade: AssignGrade | None
    feedback: list[AssignPlugin]
    gradefordisplay: str
    raw_text_path: str  # the exact stored online text, kept as a file in the archive ("" when none)
    files: StoredFiles
    grader: str = ""  # who graded, as the archive names people ("" when Moodle hides the grader)
    grading: tuple[GradingView, ...] = ()  # the rubric or marking guide filled in for this grade
    grading_note: str = ""  # why a rubric or marking guide this grade was given with is not shown
    comments: tuple[CommentView, ...] = ()  # submission comments, oldest first


def grade_setting(assignment: Assignment) -> str:
    """'100 points', 'scale 3' or 'no grade'."""
    grade = assignment.grade or 0
    if grade > 0:
        return f"{grade} points"
    if grade < 0:
        return f"scale {-grade}"
    return "no grade"


def description_report(course: str, assignment: Assignment, intro_files: StoredFiles) -> ReportBuilder:
    """The assignment's description, dates and settings, with its attachments listed."""
    report = ReportBuilder(f"{assignment.name} — description")
    report.add(el("h1", assignment.name))
    rows = [
        ("Course", course),
        ("Assignment id", f"{assignment.id} (course module {assignment.cmid})"),
        ("Submissions from", when(assignment.allowsubmissionsfromdate)),
        ("Due", when(assignment.duedate)),
        ("Cut-off", when(assignment.cutoffdate)),
        ("Grading due", when(assignment.gradingduedate)),
        ("Grade", grade_setting(assignment)),
        ("Team submissions", "yes" if assignment.teamsubmission else "no"),
        ("Blind marking", "yes" if assignment.blindmarking else "no"),
        ("Attempts reopened", f"{assignment.attemptreopenmethod or '—'} (max. {assignment.maxattempts})"),
        ("Last modified", when(assignment.timemodified)),
    ]
    if assignment.gradepenalty is not None:
        rows.append(("Late penalty", "on" if assignment.gradepenalty else "off"))
    report.add(summary_table(rows))
    report.add(el("h2", "Description"))
    report.add(report.moodle_html(assignment.intro or "", "description"))
    for area, files in intro_files.items():
        if files:
            report.add(el("h3", f"Attachments ({area})"))
            report.add(file_table(files))
    return report


def participant_report(
    course: str, assignment: Assignment, person: Person, status: SubmissionStatus, attempts: list[AttemptView]
) -> ReportBuilder:
    """One participant: who, the status of their latest attempt, and every attempt in order."""
    report = ReportBuilder(f"{assignment.name} — {person.shown}")
    report.add(el("h1", f"{assignment.name}: {person.shown}"))
    last = status.lastattempt
    rows = [
        ("Course", course),
        ("Assignment", f"{assignment.name} (id {assignment.id}, course module {assignment.cmid})"),
        ("Participant", person.shown),
        ("ID number", person.idnumber or "—"),
        ("Enrolment", "enrolled" if person.enrolled else "not listed as enrolled"),
        ("Due", when(assignment.duedate)),
    ]
    if last is not None:
        if last.submissiongroup:
            rows.append(("Team (group id)", str(last.submissiongroup)))
        if last.extensionduedate:
            rows.append(("Extension until", when(last.extensionduedate)))
        rows.append(("Grading status", last.gradingstatus or "—"))
        rows.append(("Locked", "yes" if last.locked else "no"))
        if last.blindmarking:
            rows.append(("Blind marking", "yes"))
    rows.append(("Attempts", str(len(attempts))))
    report.add(summary_table(rows))
    for view in attempts:
        _attempt(report, view, latest=view is attempts[-1])
    return report


def _attempt(report: ReportBuilder, view: AttemptView, *, latest: bool) -> None:
    box = report.add(el("div", cls="attempt latest" if latest else "attempt"))
    title = f"Attempt {view.number + 1}" + (" (latest)" if latest else "")
    box.append(el("h2", title))
    submission = view.submission
    rows = [("Status", "no submission")]
    if submission is not None:
        team = f", team submission of group {submission.groupid}" if not submission.userid else ""
        rows = [
            ("Status", f"{submission.status}{team}"),
            ("Created", when(submission.timecreated)),
            ("Last modified", when(submission.timemodified)),
        ]
    grade = view.grade
    if grade is not None and grade.grade_value is not None:
        rows.append(("Grade (raw)", str(grade.grade)))
        if view.gradefordisplay:
            rows.append(("Grade (gradebook)", plain_grade(view.gradefordisplay)))
        rows.append(("Graded by", view.grader or "hidden"))
        rows.append(("Graded at", when(grade.timemodified)))
    elif view.gradefordisplay:
        rows.append(("Grade (gradebook)", plain_grade(view.gradefordisplay)))
    else:
        rows.append(("Grade", "not graded"))
    box.append(summary_table(rows))
    where = f"attempt {view.number + 1}"
    for shown in view.grading:
        box.append(grading_table(report, shown, where))
    if view.grading_note:
        box.append(el("p", view.grading_note, cls="warning"))
    if submission is not None:
        for plugin in submission.plugins:
            for editor in plugin.editorfields:
                box.append(el("h3", editor.description or plugin.name or "Online text"))
                box.append(report.moodle_html(editor.text, f"attempt {view.number + 1} online text"))
                if view.raw_text_path:
                    box.append(el("p", f"Exactly as stored in Moodle: {view.raw_text_path}", cls="stored"))
    for plugin in view.feedback:
        for editor in plugin.editorfields:
            if editor.text:
                box.append(el("h3", plugin.name or "Feedback"))
                box.append(report.moodle_html(editor.text, f"attempt {view.number + 1} feedback"))
    for area, files in view.files.items():
        if files:
            box.append(el("h3", area))
            box.append(file_table(files))
    if view.comments:
        box.append(el("h3", "Submission comments"))
        for comment in view.comments:
            item = el("div", cls="comment")
            item.append(el("p", f"{comment.author} — {when(comment.timecreated)}", cls="meta"))
            item.append(report.moodle_html(comment.html, f"{where} submission comment"))
            box.append(item)


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def grading_table(report: ReportBuilder, shown: GradingView, where: str) -> lhtml.HtmlElement:
    """A filled rubric (criterion, chosen level, score, remark) or marking guide (criterion, score, remark); every
    text is Moodle's HTML, cleaned like the rest."""
    form = shown.form
    block = el("div", cls="grading")
    block.append(el("h3", f"{form.title}: {form.name}" if form.name else form.title))
    said = [f"filled in by {shown.rater or 'a hidden grader'}", when(form.timemodified)]
    if form.total is not None:
        said.append(f"total {_points(form.total[0])} of {_points(form.total[1])} points")
    line = "; ".join(said)
    block.append(el("p", line[:1].upper() + line[1:], cls="meta"))
    table = etree.SubElement(block, "table")
    table.set("class", "grading")
    head = etree.SubElement(table, "tr")
    rubric = form.method == "rubric"
    for title in ("Criterion", "Level", "Score", "Remark") if rubric else ("Criterion", "Score", "Remark"):
        etree.SubElement(head, "th").text = title
    for row in form.rows:
        line = etree.SubElement(table, "tr")
        etree.SubElement(line, "td").append(report.moodle_html(row.criterion, f"{where} {form.title} criterion"))
        if rubric:
            etree.SubElement(line, "td").append(report.moodle_html(row.level, f"{where} {form.title} level"))
        score = f"{_points(row.score)} / {_points(row.maxscore)}" if row.maxscore is not None else _points(row.score)
        etree.SubElement(line, "td").text = score
        etree.SubElement(line, "td").append(report.moodle_html(row.remark, f"{where} {form.title} remark"))
    return block


def plain_grade(text: str) -> str:
    """Moodle's display grade without its HTML entities ('88.50&nbsp;/&nbsp;100.00' → '88.50 / 100.00')."""
    return text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
