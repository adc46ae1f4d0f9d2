"""The two kinds of assignment report: the description (once per archive) and one per participant.

Both are composed with `ReportBuilder`; the participant report lists the latest attempt and every previous one
(Moodle's `previousattempts`, newest first, shown oldest first), each with its online text, files, grade and
feedback. Grades are shown twice where they differ: Moodle's raw decimal and `gradefordisplay` as the gradebook
shows it (a scale item, or on 5.0 the grade after a late penalty).
"""

from __future__ import annotations

from dataclasses import dataclass

from archived.moodle.models import AssignGrade, Assignment, AssignPlugin, Submission, SubmissionStatus
from archived_assign.moodle_records import Person
from archived_assign.report import ReportBuilder, el, file_table, summary_table, when

# Files one attempt put in the archive: (Moodle file name, path in the archive, SHA-256), per plugin area.
StoredFiles = dict[str, list[tuple[str, str, str]]]


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


def plain_grade(text: str) -> str:
    """Moodle's display grade without its HTML entities ('88.50&nbsp;/&nbsp;100.00' → '88.50 / 100.00')."""
    return text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
