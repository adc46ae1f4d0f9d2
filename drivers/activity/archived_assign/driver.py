"""The assignment driver: the description and one PDF/A per participant, their files as they are, submissions.csv.

One run reads the assignment and everyone who may hold a submission or a grade (`moodle_records`), writes the
description report, then archives participants a few at a time: their files (checked against Moodle's ETag and
recorded with SHA-256) and a report of every attempt rendered by the daemon's render service. Each finished
participant is recorded as a checkpoint item, so a restarted stage skips those whose files are intact. A user
with a grade or submission whose status Moodle refuses makes the archive *incomplete*: the job log, job.json
(`summary.completeness`) and README.txt name them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from archived.archive.names import sanitise_segment
from archived.durable import write_atomic
from archived.errors import ArchivedError, FatalError
from archived.interfaces.activity import (
    ActivityDriver,
    ActivityRef,
    ActivityResult,
    ActivityStatus,
    ArchiveContext,
    CourseRef,
    IncludedUser,
    LogLevel,
)
from archived.moodle.api import MoodleApi
from archived.moodle.errors import MoodleError
from archived.moodle.models import AssignGrade, Assignment, AssignPlugin, Course, ExternalFile, Submission
from archived_assign.advanced_grading import INSTANCES
from archived_assign.documents import (
    AttemptView,
    CommentView,
    GradingView,
    StoredFiles,
    description_report,
    participant_report,
    plain_grade,
)
from archived_assign.errors import AssignNotFoundError, participant_failed
from archived_assign.moodle_records import (
    AssignFacts,
    Person,
    assign_fingerprint,
    assign_last_modified,
    find_assignment,
    latest,
    raw_previous_texts,
    read_assignment,
    refusal,
)
from archived_assign.participant_record import ParticipantRecord, write_submissions_csv
from archived_assign.payload_files import download_checked, file_name, files_intact
from archived_assign.report import ReportBuilder, stylesheet
from archived_assign.settings import AssignSettings
from archived_assign.submission_comments import FUNCTION as COMMENTS
from archived_assign.submission_comments import SubmissionComments, read_submission_comments
from archived_render.images import sniff_image_mime
from archived_render.render_task import RenderOptions, RenderTask, Resource
from archived_render.service import RenderSession

IMAGE_MAX_BYTES = 32 * 1024 * 1024
# Feedback file areas that hold files a grader made; editpdf's other areas are Moodle's working copies.
FEEDBACK_AREAS = {
    ("file", "feedback_files"),
    ("editpdf", "download"),
    ("editpdf", "combined"),
    ("comments", "feedback"),
}


@dataclass
class AssignRun:
    """Everything one `archive` run of an assignment job shares between its participants."""

    ctx: ArchiveContext
    settings: AssignSettings
    api: MoodleApi
    render: RenderSession
    course: Course
    facts: AssignFacts
    css: str
    done: dict[int, ParticipantRecord]
    etags_checked: int = 0
    warned: set[str] = field(default_factory=set)
    # Submission id → the reading of its comments: a team submission's are read once for all members.
    comment_reads: dict[int, asyncio.Task[SubmissionComments | None]] = field(default_factory=dict)

    @property
    def assignment(self) -> Assignment:
        """The assignment being archived."""
        return self.facts.assignment

    @property
    def course_name(self) -> str:
        """'Physics I (PHYS1)'."""
        return f"{self.course.fullname} ({self.course.shortname})"

    async def warn(self, message: str) -> None:
        """A warning in the job log, once per run."""
        message = self.api.client.redact(message)
        if message not in self.warned:
            self.warned.add(message)
            await self.ctx.log(LogLevel.WARNING, message)


class AssignDriver(ActivityDriver):
    """Archives Moodle assignments: description, per-participant PDF/A reports and every file as it is."""

    name = "assign"
    modname = "assign"
    title = "Assignment"
    settings_model = AssignSettings

    # -- inspect --------------------------------------------------------------------------------------------

    async def inspect(self, course_id: int, cmids: list[int]) -> list[ActivityStatus]:
        """Archivable once there is a submission; fingerprint = newest submission/grade modification."""
        api = self.moodle()
        listing = await api.assignments([course_id])
        by_cmid = {a.cmid: a for c in listing.courses for a in c.assignments}
        wanted = [by_cmid[cmid] for cmid in cmids if cmid in by_cmid]
        # One listing of submissions and one of grades for all of them (Moodle takes a list of assignments).
        ids = [a.id for a in wanted]
        submission_list = await api.submissions(ids) if ids else None
        grade_list = await api.grades(ids) if ids else None
        statuses = []
        for cmid in cmids:
            assignment = by_cmid.get(cmid)
            if assignment is None or submission_list is None or grade_list is None:
                statuses.append(
                    ActivityStatus(cmid, "", False, "assignment not found or not visible to the service user")
                )
                continue
            submissions = latest(submission_list, assignment.id)
            grades = [g for a in grade_list.assignments if a.assignmentid == assignment.id for g in a.grades]
            real = [s for s in submissions if s.status != "new"]
            reason = None if real else "no submissions yet"
            fingerprint = assign_fingerprint(assignment, submissions, grades)
            statuses.append(ActivityStatus(cmid, assignment.name, bool(real), reason, fingerprint))
        return statuses

    # -- archive --------------------------------------------------------------------------------------------

    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Write description/, submissions/<user>/…, submissions.csv; return the users included."""
        settings = (
            ctx.settings if isinstance(ctx.settings, AssignSettings) else AssignSettings.model_validate(ctx.settings)
        )
        api = self.moodle()
        render = self.render_service().session(f"job {ctx.job_id}")
        site = await api.site_info(refresh=True)
        courses = (await api.courses_by_field("id", ctx.course_id)).courses
        if not courses:
            raise FatalError(
                f"course {ctx.course_id} not found or not visible to the service user", code="course_not_found"
            )
        assignment = await find_assignment(api, ctx.course_id, ctx.cmid)
        if assignment is None:
            raise AssignNotFoundError(
                f"course module {ctx.cmid} in course {ctx.course_id} is not an assignment the service user can see"
            )
        facts = await read_assignment(api, ctx.course_id, assignment, self.env.course_users)
        await _name_unlisted(api, facts)
        for function in facts.missing_functions:
            await ctx.log(LogLevel.INFO, f"optional web-service function {function} is not available to the token")
        for function, why in facts.refused_functions.items():
            await ctx.log(LogLevel.WARNING, f"optional web-service function {function}: Moodle refused it ({why})")
        done = await _load_records(ctx)
        run = AssignRun(ctx, settings, api, render, courses[0], facts, stylesheet(), done)
        await self._description(run)
        for function, answer in facts.optional.items():
            data = json.dumps(answer, indent=1, ensure_ascii=False, sort_keys=True).encode()
            await asyncio.to_thread(write_atomic, ctx.payload_dir / "moodle" / f"{function}.json", data)

        wanted = [uid for uid in sorted(facts.people) if _has_content(facts, uid)]
        await ctx.log(LogLevel.INFO, f"{len(wanted)} participant(s) of assignment {assignment.id} to archive")
        records = await self._participants(run, wanted)
        unreachable = [uid for uid in facts.unreachable if uid in facts.grades or uid in facts.submissions]
        for userid in unreachable:
            person = facts.people[userid]
            records.append(_unreachable_record(facts, person))
            await ctx.log(
                LogLevel.WARNING,
                f"archive incomplete: {person.shown} has a grade or submission in Moodle, but Moodle refuses their "
                "submission status (enrolment removed?); their submission and feedback are not in this archive",
            )
        await asyncio.to_thread(write_submissions_csv, ctx.payload_dir / "submissions.csv", records)
        included = {r.userid: IncludedUser(r.userid, r.username, r.firstname, r.lastname, r.idnumber) for r in records}
        completeness = _completeness(run, unreachable, len(records) - len(unreachable))
        for line in completeness["statement"]:
            await ctx.log(LogLevel.WARNING if unreachable else LogLevel.INFO, f"completeness: {line}")
        return ActivityResult(
            course=CourseRef(run.course.id, run.course.shortname, run.course.fullname, run.course.categoryid),
            activity=ActivityRef(ctx.cmid, "assign", assignment.id, assignment.name),
            users=[included[k] for k in sorted(included)],
            summary={
                "assign_id": assignment.id,
                "participants": len(records) - len(unreachable),
                "incomplete": bool(unreachable),
                "completeness": completeness,
            },
            moodle_site=site.siteurl,
            moodle_release=site.release or "",
            fingerprint=assign_fingerprint(assignment, list(facts.submissions.values()), list(facts.grades.values())),
            last_modified=assign_last_modified(
                assignment, list(facts.submissions.values()), list(facts.grades.values())
            ),
        )

    async def _description(self, run: AssignRun) -> None:
        """description/description.pdf and the description's attachments."""
        assignment = run.assignment
        stored: StoredFiles = {}
        for area, files in (("introattachments", assignment.introattachments), ("introfiles", assignment.introfiles)):
            stored[area] = await _download(run, files, f"description/{area}", set())
        report = description_report(run.course_name, assignment, stored)
        await _render(run, report, "description/description.pdf", "description", "assignment description")

    async def _participants(self, run: AssignRun, userids: list[int]) -> list[ParticipantRecord]:
        """Every participant archived, a few at a time; the first failure fails the job, naming them."""
        queue = list(userids)
        records: dict[int, ParticipantRecord] = {}

        async def runner() -> None:
            while queue:
                userid = queue.pop(0)
                person = run.facts.people[userid]
                try:
                    record = await _participant(run, person)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    raise participant_failed(person.shown, exc) from exc
                records[userid] = record
                await run.ctx.save_checkpoint_items({str(userid): record.to_item()})
                await run.ctx.progress(
                    100.0 * len(records) / max(1, len(userids)), f"archived participant {len(records)}/{len(userids)}"
                )

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(run.settings.fetch_concurrency, max(1, len(userids)))):
                    group.create_task(runner())
        except BaseExceptionGroup as failed:
            # The participant's own error, not a runner cancelled because of it.
            errors = sorted(failed.exceptions, key=lambda error: isinstance(error, asyncio.CancelledError))
            raise errors[0] from None
        return [records[k] for k in sorted(records)]


def _has_content(facts: AssignFacts, userid: int) -> bool:
    """Whether a user has anything to archive: a submission that is not empty, a grade, feedback or attempts."""
    status = facts.statuses.get(userid)
    if status is None:
        return False
    last = status.lastattempt
    submission = (last.teamsubmission or last.submission) if last is not None else None
    if submission is not None and submission.status not in ("new", ""):
        return True
    feedback = status.feedback
    return bool(status.previousattempts) or (feedback is not None and feedback.grade is not None)


async def _participant(run: AssignRun, person: Person) -> ParticipantRecord:
    """One participant's files and report; an earlier run's record when its files are intact."""
    facts = run.facts
    folder = f"submissions/{person.id}-{sanitise_segment(person.username or 'user') or 'user'}"
    pdf = f"{folder}/report.pdf"
    previous = run.done.get(person.id)
    if previous is not None and previous.path == pdf:
        every = {previous.path: previous.sha256, **previous.files}
        if await asyncio.to_thread(files_intact, run.ctx.payload_dir, every):
            return previous
    status = facts.statuses[person.id]
    last = status.lastattempt
    submission = (last.teamsubmission or last.submission) if last is not None else None
    raw_previous: dict[int, str] = {}
    if status.previousattempts and run.settings.keep_raw_text:
        raw_previous = await raw_previous_texts(run.api, run.assignment.id, person.id)
    views: list[AttemptView] = []
    files: dict[str, str] = {}
    for earlier in sorted(status.previousattempts, key=lambda a: a.attemptnumber):
        number = earlier.attemptnumber
        stored = await _attempt_files(run, folder, number, earlier.submission, earlier.feedbackplugins)
        raw = raw_previous.get(earlier.submission.id) if earlier.submission is not None else None
        raw_path = await _keep_raw_text(run, folder, number, raw, files)
        grader = _grader(run, earlier.grade)
        grading, note = _grading(run, earlier.grade)
        comments = await _comments(run, folder, number, earlier.submission, files)
        view = AttemptView(
            number, earlier.submission, earlier.grade, earlier.feedbackplugins, "", raw_path, stored, grader,
            grading, note, comments,
        )  # fmt: skip
        views.append(view)
        files.update({path: digest for entries in stored.values() for _, path, digest in entries})
    feedback = status.feedback
    plugins = feedback.plugins if feedback is not None else []
    number = submission.attemptnumber if submission is not None else len(views)
    stored = await _attempt_files(run, folder, number, submission, plugins)
    files.update({path: digest for entries in stored.values() for _, path, digest in entries})
    raw_text = run.facts.raw_texts.get(submission.id) if submission is not None and run.settings.keep_raw_text else None
    grade = feedback.grade if feedback is not None else None
    display = (feedback.gradefordisplay or "") if feedback is not None else ""
    raw_path = await _keep_raw_text(run, folder, number, raw_text, files)
    grading, note = _grading(run, grade)
    comments = await _comments(run, folder, number, submission, files)
    views.append(
        AttemptView(number, submission, grade, plugins, display, raw_path, stored, _grader(run, grade), grading, note,
                    comments)
    )  # fmt: skip
    report = participant_report(run.course_name, run.assignment, person, status, views)
    sha256 = await _render(run, report, pdf, f"participant {person.id}", person.shown)
    return ParticipantRecord(
        userid=person.id,
        username=person.username,
        firstname=person.firstname,
        lastname=person.lastname,
        idnumber=person.idnumber,
        enrolled=person.enrolled,
        reachable=True,
        groupid=submission.groupid if submission is not None else 0,
        status=str(submission.status) if submission is not None else "",
        attempts=len(views),
        timemodified=(submission.timemodified or 0) if submission is not None else 0,
        grade=str(grade.grade) if grade is not None and grade.grade_value is not None else "",
        gradefordisplay=plain_grade(display),
        grader=grade.grader if grade is not None else None,
        timegraded=(grade.timemodified or 0) if grade is not None else 0,
        path=pdf,
        sha256=sha256,
        files=files,
    )


def _grader(run: AssignRun, grade: AssignGrade | None) -> str:
    """Who graded, named like every person in the archive ('' when Moodle hides the grader: -1 or none)."""
    if grade is None or not grade.grader or grade.grader < 0:
        return ""
    person = run.facts.people.get(grade.grader)
    return person.shown if person is not None else f"user {grade.grader}"


def _name(run: AssignRun, userid: int | None, fallback: str = "") -> str:
    """A person as the archive names them; Moodle's name and the id for someone the archive does not hold."""
    person = run.facts.people.get(userid) if userid else None
    if person is not None:
        return person.shown
    return f"{fallback or 'unknown name'} (user {userid})" if userid else fallback


def _grading(run: AssignRun, grade: AssignGrade | None) -> tuple[tuple[GradingView, ...], str]:
    """The rubric or marking guide filled in for a grade, or why a form it was graded with is not shown."""
    grading = run.facts.grading
    if grading is None or grade is None or grade.grade_value is None:
        return (), ""
    if not grading.fillings_read:
        why = run.facts.refused_functions.get(INSTANCES, "the function is not available to the token")
        form = f"{grading.definition.method} {grading.definition.name!r}"
        note = f"This assignment is graded with the {form}; how it was filled in for this grade is not in this "
        return (), note + f"archive ({INSTANCES}: {why})."
    forms = grading.filled_for(grade.id)
    return tuple(GradingView(f, _name(run, f.rater) if f.rater and f.rater > 0 else "") for f in forms), ""


async def _comments(
    run: AssignRun, folder: str, number: int, submission: Submission | None, files: dict[str, str]
) -> tuple[CommentView, ...]:
    """The submission comments of one attempt; Moodle's answers kept beside the report when there are any."""
    if submission is None or not run.facts.reads_comments:
        return ()
    if not any(plugin.type == "comments" for plugin in submission.plugins):
        return ()  # the plugin is off: Moodle keeps no comments for this submission
    task = run.comment_reads.get(submission.id)
    if task is None:
        task = asyncio.ensure_future(_read_comments(run, submission.id))
        run.comment_reads[submission.id] = task
    read = await asyncio.shield(task)
    if read is None or not read.comments:
        return ()
    relative = f"{folder}/attempt-{number + 1}/{COMMENTS}.json"
    data = json.dumps(read.answers, indent=1, ensure_ascii=False, sort_keys=True).encode()
    await asyncio.to_thread(write_atomic, run.ctx.payload_dir / relative, data)
    files[relative] = hashlib.sha256(data).hexdigest()
    return tuple(CommentView(_name(run, c.userid, c.fullname), c.timecreated, c.content) for c in read.comments)


async def _read_comments(run: AssignRun, submission_id: int) -> SubmissionComments | None:
    """One submission's comments; None when Moodle refuses them (said once in the log and in job.json)."""
    if not run.facts.reads_comments:
        return None
    try:
        return await read_submission_comments(run.api, run.assignment.cmid, submission_id)
    except MoodleError as exc:
        if (why := refusal(exc)) is None:
            raise
        run.facts.refused_functions.setdefault(COMMENTS, why)
        await run.warn(f"optional web-service function {COMMENTS}: Moodle refused it ({why})")
        return None


async def _keep_raw_text(run: AssignRun, folder: str, number: int, text: str | None, files: dict[str, str]) -> str:
    """The online text exactly as Moodle stores it (`@@PLUGINFILE@@` links, no filters) as a file; its path."""
    if not text:
        return ""
    relative = f"{folder}/attempt-{number + 1}/onlinetext-as-stored.html"
    data = text.encode("utf-8")
    await asyncio.to_thread(write_atomic, run.ctx.payload_dir / relative, data)
    files[relative] = hashlib.sha256(data).hexdigest()
    return relative


async def _attempt_files(
    run: AssignRun, folder: str, number: int, submission: Submission | None, feedback: list[AssignPlugin]
) -> StoredFiles:
    """The submitted and feedback files of one attempt, by area, downloaded under `folder/attempt-N/`."""
    stored: StoredFiles = {}
    base = f"{folder}/attempt-{number + 1}"
    plugins: list[tuple[str, AssignPlugin]] = [("submission", p) for p in (submission.plugins if submission else [])]
    plugins += [("feedback", p) for p in feedback]
    for kind, plugin in plugins:
        for area in plugin.fileareas:
            if kind == "feedback" and (plugin.type, area.area) not in FEEDBACK_AREAS:
                continue
            if area.files:
                label = f"{kind} files: {plugin.name or plugin.type} ({area.area})"
                stored[label] = await _download(run, area.files, f"{base}/{kind}/{plugin.type}-{area.area}", set())
    return stored


async def _download(
    run: AssignRun, files: list[ExternalFile], folder: str, taken: set[str]
) -> list[tuple[str, str, str]]:
    """Download files into `folder` (payload-relative); returns (Moodle name, path, SHA-256) for each."""
    stored = []
    for file in files:
        if not file.fileurl:
            await run.warn(f"{folder}: Moodle gave no URL for file {file.filename!r}")
            continue
        name = file_name(file, taken)
        relative = f"{folder}/{name}"
        fetched = await download_checked(run.api, file.fileurl, run.ctx.payload_dir / relative)
        if fetched.etag:
            run.etags_checked += 1
        stored.append((file.filename or name, relative, fetched.sha256))
    return stored


async def _render(run: AssignRun, report: ReportBuilder, pdf: str, task: str, who: str) -> str:
    """Typeset the formulas, fetch the images, render the PDF/A into the payload; returns its SHA-256."""
    rendered, images = await asyncio.gather(run.render.render_math(report.formulas), _images(run, report.image_urls))
    html, resources = await asyncio.to_thread(report.finish, rendered, images, run.css)
    for warning in report.warnings:
        await run.warn(f"{task}: {warning}")
    options = RenderOptions(
        pdf_variant=run.settings.pdf_variant,
        page_size=run.settings.paper_format.css_size,
        identifier=hashlib.sha256(f"{run.ctx.job_id}:{task}".encode()).hexdigest()[:32],
        title=f"{run.assignment.name} — {who}",
        author=who,
        subject=f"{run.course.fullname}: assignment {run.assignment.id}",
        created=run.ctx.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    result = await run.render.render(RenderTask(task, html, resources, options, run.ctx.payload_dir / pdf))
    for url in result.missing_resources:
        await run.warn(f"{task}: resource not available to the renderer: {url}")
    return result.sha256


async def _images(run: AssignRun, urls: list[str]) -> dict[str, Resource | None]:
    """Every image a report shows, by URL; None where it cannot be had (a warning, not a failure)."""

    async def one(url: str) -> tuple[str, Resource | None]:
        try:
            fetched = await run.api.client.fetch_file(url, max_bytes=IMAGE_MAX_BYTES)
        except ArchivedError as exc:
            if exc.recoverable:
                raise
            await run.warn(f"image {run.api.client.redact(url)} not available: {exc}")
            return url, None
        data = fetched.content or b""
        mime = fetched.content_type or ""
        if not mime.startswith("image/"):
            mime = sniff_image_mime(data) or mime or "application/octet-stream"
        return url, Resource(data, mime)

    return dict(await asyncio.gather(*(one(u) for u in urls)))


async def _load_records(ctx: ArchiveContext) -> dict[int, ParticipantRecord]:
    records: dict[int, ParticipantRecord] = {}
    for key, item in (await ctx.load_checkpoint_items()).items():
        record = ParticipantRecord.from_item(item) if isinstance(item, dict) else None
        if record is not None and str(record.userid) == key:
            records[record.userid] = record
    return records


async def _name_unlisted(api: MoodleApi, facts: AssignFacts) -> None:
    """Names of people known only by id (a grade whose enrolment is gone), so the archive can name them."""
    unnamed = [uid for uid, p in facts.people.items() if not p.username and not p.fullname]
    if not unnamed:
        return
    for user in await api.users_by_field("id", unnamed):
        facts.people[user.id] = Person.of(user, enrolled=False)


def _unreachable_record(facts: AssignFacts, person: Person) -> ParticipantRecord:
    grade = facts.grades.get(person.id)
    submission = facts.submissions.get(person.id)
    return ParticipantRecord(
        userid=person.id, username=person.username, firstname=person.firstname, lastname=person.lastname,
        idnumber=person.idnumber, enrolled=person.enrolled, reachable=False,
        groupid=submission.groupid if submission else 0, status=str(submission.status) if submission else "",
        attempts=0, timemodified=(submission.timemodified or 0) if submission else 0,
        grade=str(grade.grade) if grade is not None and grade.grade_value is not None else "",
        gradefordisplay="", grader=grade.grader if grade is not None else None,
        timegraded=(grade.timemodified or 0) if grade is not None else 0, path="", sha256="",
    )  # fmt: skip


# What an assignment archive cannot hold with core web services (docs/assignments.md).
NOT_DELIVERABLE = (
    "annotation objects (only the flattened annotated PDF)",
    "grade and submission history",
    "overrides",
    "plagiarism reports",
)


def _completeness(run: AssignRun, unreachable: list[int], archived: int) -> dict[str, Any]:
    """summary.completeness of job.json: who was checked, who could not be reached (by name), what was verified."""
    facts = run.facts
    completeness: dict[str, Any] = {
        "complete": not unreachable,
        "users_checked": len(facts.people),
        "participants_archived": archived,
        "unreachable_users": [
            {
                "userid": uid,
                "name": facts.people[uid].shown,
                "reason": f"Moodle refused the submission status ({facts.unreachable[uid]})",
            }
            for uid in unreachable
        ],
        "etags_checked": run.etags_checked,
        "missing_optional_functions": facts.missing_functions,
        "refused_optional_functions": [{"function": f, "reason": why} for f, why in facts.refused_functions.items()],
        "not_deliverable": list(NOT_DELIVERABLE),
    }
    completeness["statement"] = _statement(completeness)
    return completeness


def _statement(completeness: dict[str, Any]) -> list[str]:
    """The completeness of the archive in plain lines, for README.txt."""
    lines = [
        f"Users checked: {completeness['users_checked']} (enrolled in any state, assignment participants, and "
        "everyone with a submission or a grade); participants archived: "
        f"{completeness['participants_archived']}; downloads checked against Moodle's ETag (SHA-1): "
        f"{completeness['etags_checked']}.",
    ]
    unreachable = completeness["unreachable_users"]
    if unreachable:
        names = "; ".join(u["name"] for u in unreachable)
        lines.append(
            f"INCOMPLETE: Moodle holds a grade or submission of {names}, but refuses their submission status "
            "(enrolment removed?): their submission and feedback are not in this archive."
        )
    else:
        lines.append("Complete: every user with a submission or a grade is in this archive.")
    if completeness["missing_optional_functions"]:
        missing = ", ".join(completeness["missing_optional_functions"])
        lines.append(f"Not available to the web-service token (optional): {missing}.")
    if completeness["refused_optional_functions"]:
        refused = "; ".join(f"{r['function']} ({r['reason']})" for r in completeness["refused_optional_functions"])
        lines.append(f"Offered to the token but refused by Moodle (optional): {refused}.")
    lines.append("Core web services cannot deliver: " + "; ".join(completeness["not_deliverable"]) + ".")
    return lines
