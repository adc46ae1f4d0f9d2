"""The quiz driver: every (non-preview) attempt of a quiz → one PDF/A report, its attachments, attempts.csv.

Per attempt: fetch the review from Moodle, clean and assemble the report HTML, render the formulas (MathJax,
batched), download the images (down-scaled later in the render worker), render the PDF/A in the worker pool,
check it, write it atomically, record a checkpoint. A restarted stage skips attempts whose files are still
there with the recorded checksum. One attempt that still fails after its retries fails the job, naming it.
Missing images are not fatal: the report shows a placeholder and the job log a warning.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from archived.drivers.activity.base import (
    ActivityDriver,
    ActivityRef,
    ActivityResult,
    ActivityStatus,
    ArchiveContext,
    CourseRef,
    DriverEnvironment,
    IncludedUser,
    LogLevel,
)
from archived.drivers.activity.quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived.drivers.activity.quiz.settings import QuizSettings
from archived.drivers.worker.math import MathRenderer
from archived.drivers.worker.pdf_check import check_pdf
from archived.drivers.worker.render_pool import RenderPool
from archived.drivers.worker.render_task import RenderOptions, RenderTask, Resource

from archived.archive.names import render_name, render_path, sanitise_segment, time_variables
from archived.errors import ArchivedError, FatalError, RecoverableError

CSV_COLUMNS = (
    "attemptid", "attempt", "userid", "username", "firstname", "lastname", "idnumber", "state",
    "timestart", "timefinish", "sumgrades", "grade", "path", "sha256",
)  # fmt: skip
IMAGE_MAX_BYTES = 32 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 1024 * 1024 * 1024


class QuizNotFoundError(FatalError):
    """The course module is not a quiz the service user can see."""

    code = "quiz_not_found"


class AttemptFailedError(ArchivedError):
    """One attempt could not be archived; the job fails and names it. Recoverable when the cause was."""

    code = "attempt_failed"

    def __init__(self, attempt_id: int, username: str, cause: BaseException) -> None:
        super().__init__(f"attempt {attempt_id} (user {username or '?'}) could not be archived: {cause}")
        self.attempt_id = attempt_id
        self.code = getattr(cause, "code", self.code)


class AttemptFailedRecoverable(AttemptFailedError, RecoverableError):
    """An attempt failed for a transient reason (network, timeout): the stage may be retried."""


class AttemptFailedFatal(AttemptFailedError, FatalError):
    """An attempt failed for a reason retrying cannot fix."""


def attempt_failed(attempt_id: int, username: str, cause: BaseException) -> AttemptFailedError:
    """The typed error for a failed attempt: recoverable exactly when its cause was."""
    if isinstance(cause, ArchivedError) and cause.recoverable:
        return AttemptFailedRecoverable(attempt_id, username, cause)
    return AttemptFailedFatal(attempt_id, username, cause)


def quiz_fingerprint(quiz: Any, attempts: list[tuple[Any, Any]]) -> str:
    """SHA-256 over the quiz's and its newest real attempt's modification times (the anchor's formula)."""
    newest = max((a.timemodified or a.timefinish or a.timestart or 0 for _, a in attempts), default=0)
    return hashlib.sha256(f"quiz:{quiz.id}:{quiz.timemodified or 0}:{newest}".encode()).hexdigest()


@dataclass
class _Job:
    """Everything one `archive` run shares between its attempts."""

    ctx: ArchiveContext
    settings: QuizSettings
    api: Any
    course: Any
    quiz: Any
    users: dict[int, Any]
    done: dict[str, dict[str, Any]]
    used_paths: set[str]
    warnings_logged: set[str]


class QuizDriver(ActivityDriver):
    """Archives Moodle quizzes as per-attempt PDF/A reports."""

    name = "quiz"
    modname = "quiz"
    title = "Quiz"
    settings_model = QuizSettings

    def __init__(self, env: DriverEnvironment) -> None:
        super().__init__(env)
        self._pool: RenderPool | None = None
        self._math: MathRenderer | None = None

    async def start(self) -> None:
        """Create the render pool and the MathJax renderer (both start their processes lazily)."""
        if self._pool is None:
            self._pool = RenderPool(
                self.env.render_processes,
                max_tasks_per_child=self.env.render_max_tasks_per_child,
                timeout=self.env.render_timeout_seconds,
                retries=self.env.render_retries,
            )
        if self._math is None:
            self._math = MathRenderer()

    async def close(self) -> None:
        """Stop worker processes."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._math is not None:
            await self._math.close()
            self._math = None

    def _api(self) -> Any:
        from archived.moodle.api import MoodleApi

        if self.env.moodle is None:
            raise FatalError("no Moodle site is configured; the quiz driver needs one", code="no_moodle")
        return MoodleApi(self.env.moodle)

    # -- inspect --------------------------------------------------------------------------------------------

    async def inspect(self, course_id: int, cmids: list[int]) -> list[ActivityStatus]:
        """Archivable now (has real attempts) and fingerprint (quiz + newest attempt time-modified)."""
        api = self._api()
        quizzes = {q.coursemodule: q for q in (await api.quizzes_by_courses([course_id])).quizzes}
        users = await api.enrolled_users(course_id)
        statuses = []
        for cmid in cmids:
            quiz = quizzes.get(cmid)
            if quiz is None:
                statuses.append(ActivityStatus(cmid, "", False, "quiz not found or not visible to the service user"))
                continue
            attempts = await self._all_attempts(api, quiz.id, users)
            fingerprint = quiz_fingerprint(quiz, attempts)
            reason = None if attempts else "no attempts yet"
            statuses.append(ActivityStatus(cmid, quiz.name, bool(attempts), reason, fingerprint))
        return statuses

    async def _all_attempts(self, api: Any, quiz_id: int, users: list[Any]) -> list[tuple[Any, Any]]:
        gate = asyncio.Semaphore(4)

        async def of(user: Any) -> list[tuple[Any, Any]]:
            async with gate:
                found = await api.user_attempts(quiz_id, user.id, status="all")
            return [(user, a) for a in found.attempts if not a.preview]

        batches = await asyncio.gather(*(of(u) for u in users))
        return sorted((pair for batch in batches for pair in batch), key=lambda pair: pair[1].id)

    # -- archive --------------------------------------------------------------------------------------------

    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Write attempts/…pdf (+ attachments, + html), attempts.csv; return the users included."""
        await self.start()
        assert self._pool is not None and self._math is not None
        settings = ctx.settings if isinstance(ctx.settings, QuizSettings) else QuizSettings.model_validate(ctx.settings)
        api = self._api()
        site = await api.site_info()
        courses = (await api.courses_by_field("id", ctx.course_id)).courses
        if not courses:
            raise FatalError(
                f"course {ctx.course_id} not found or not visible to the service user", code="course_not_found"
            )
        course = courses[0]
        quiz = next(
            (q for q in (await api.quizzes_by_courses([ctx.course_id])).quizzes if q.coursemodule == ctx.cmid), None
        )
        if quiz is None:
            raise QuizNotFoundError(f"course module {ctx.cmid} in course {ctx.course_id} is not a visible quiz")
        if not self._math.available:
            await ctx.log(LogLevel.WARNING, f"formulas are shown as TeX source: {self._math.reason}")

        enrolled = await api.enrolled_users(ctx.course_id)
        states = {str(s) for s in settings.attempt_states}
        every_attempt = await self._all_attempts(api, quiz.id, enrolled)
        attempts = [(u, a) for u, a in every_attempt if str(a.state) in states]
        checkpoint = await ctx.load_checkpoint() or {}
        job = _Job(ctx, settings, api, course, quiz, {u.id: u for u in enrolled}, dict(checkpoint.get("done", {})),
                   set(), set())  # fmt: skip
        await ctx.log(LogLevel.INFO, f"{len(attempts)} attempt(s) of quiz {quiz.id} ({quiz.name}) to archive")

        total = len(attempts)
        finished = 0
        progress_lock = asyncio.Lock()
        gate = asyncio.Semaphore(settings.fetch_concurrency + self._pool.processes)
        rows: dict[int, dict[str, Any]] = {}

        async def one(user: Any, attempt: Any) -> None:
            nonlocal finished
            async with gate:
                try:
                    rows[attempt.id] = await self._attempt(job, user, attempt)
                except (asyncio.CancelledError, AttemptFailedError):
                    raise
                except Exception as exc:
                    raise attempt_failed(attempt.id, user.username or "", exc) from exc
            async with progress_lock:
                finished += 1
                job.done[str(attempt.id)] = rows[attempt.id]
                await ctx.save_checkpoint({"done": job.done})
                await ctx.progress(100.0 * finished / max(1, total), f"rendered attempt {finished}/{total}")

        try:
            async with asyncio.TaskGroup() as group:
                for user, attempt in attempts:
                    group.create_task(one(user, attempt))
        except BaseExceptionGroup as group_error:
            first = _first_error(group_error)
            await ctx.log(LogLevel.ERROR, str(first))
            raise first from None

        await asyncio.to_thread(_write_csv, ctx.payload_dir / "attempts.csv", [rows[k] for k in sorted(rows)])
        included = {}
        for user, _attempt in attempts:
            included[user.id] = IncludedUser(user.id, user.username or "", user.firstname or "", user.lastname or "",
                                             user.idnumber or "")  # fmt: skip
        return ActivityResult(
            course=CourseRef(course.id, course.shortname, course.fullname, course.categoryid),
            activity=ActivityRef(ctx.cmid, "quiz", quiz.id, quiz.name),
            users=[included[k] for k in sorted(included)],
            summary={"attempts": len(rows), "quiz_id": quiz.id},
            moodle_site=site.siteurl,
            moodle_release=site.release or "",
            fingerprint=quiz_fingerprint(quiz, every_attempt),
        )

    def _variables(self, job: _Job, user: Any, attempt: Any) -> dict[str, object]:
        groups = list(getattr(user, "groups", []) or [])
        return {
            "courseid": job.course.id,
            "coursename": job.course.fullname,
            "courseshortname": job.course.shortname,
            "cmid": job.ctx.cmid,
            "groupids": "-".join(str(g.id) for g in groups),
            "groupidnumbers": "-".join(
                str(getattr(g, "idnumber", "") or "") for g in groups if getattr(g, "idnumber", "")
            ),
            "groupnames": "-".join(g.name for g in groups),
            "quizid": job.quiz.id,
            "quizname": job.quiz.name,
            "attemptid": attempt.id,
            "username": user.username or f"user{user.id}",
            "firstname": user.firstname or "",
            "lastname": user.lastname or "",
            "idnumber": user.idnumber or "",
            "timestart": attempt.timestart or 0,
            "timefinish": attempt.timefinish or 0,
            **time_variables(job.ctx.created_at),
        }

    def _paths(self, job: _Job, user: Any, attempt: Any) -> tuple[str, str]:
        variables = self._variables(job, user, attempt)
        folder = render_path(job.settings.folder_pattern, variables)
        name = render_name(job.settings.file_pattern, variables)
        relative = f"attempts/{folder}/{name}"
        if relative in job.used_paths:  # a pattern without ${attemptid} must not let attempts overwrite each other
            relative = f"{relative}_{attempt.id}"
        job.used_paths.add(relative)
        return f"attempts/{folder}", relative

    async def _attempt(self, job: _Job, user: Any, attempt: Any) -> dict[str, Any]:
        ctx, settings = job.ctx, job.settings
        folder, relative = self._paths(job, user, attempt)
        pdf_path = ctx.payload_dir / f"{relative}.pdf"
        previous = job.done.get(str(attempt.id))
        if (
            previous
            and previous.get("path") == f"{relative}.pdf"
            and await asyncio.to_thread(_unchanged, pdf_path, previous)
        ):
            return previous  # finished in an earlier run and still intact

        review = await job.api.attempt_review(attempt.id)
        questions = [QuestionInput.from_ws(q.model_dump()) for q in review.questions]
        header = AttemptHeader(
            attempt_id=attempt.id,
            attempt_number=attempt.attempt,
            state=str(attempt.state),
            timestart=attempt.timestart,
            timefinish=attempt.timefinish,
            sumgrades=review.attempt.sumgrades,
            quiz_sumgrades=job.quiz.sumgrades,
            grade=review.grade,
            quiz_grade=job.quiz.grade,
            user_fullname=" ".join(x for x in (user.firstname, user.lastname) if x) or user.fullname,
            username=user.username or "",
            idnumber=user.idnumber or "",
            course=f"{job.course.fullname} ({job.course.shortname})",
            quiz=job.quiz.name,
            overall_feedback_html=review.overall_feedback or "",
            archived_at=ctx.created_at,
            job_id=ctx.job_id,
        )
        prepared = prepare_report(header, questions, settings, title=f"{job.quiz.name} — attempt {attempt.id}")
        assert self._math is not None and self._pool is not None
        formulas, images = await asyncio.gather(
            self._math.render_many(prepared.formulas), self._images(job, prepared.image_urls)
        )
        document = finish_report(prepared, formulas, images)
        for warning in document.warnings:
            await self._warn(job, f"attempt {attempt.id}: {warning}")

        if settings.section_attachments:
            await self._attachments(job, review, ctx.payload_dir / folder)
        options = RenderOptions(
            pdf_variant=settings.pdf_variant,
            page_size=settings.paper_format.css_size,
            identifier=hashlib.sha256(f"{ctx.job_id}:{attempt.id}".encode()).hexdigest()[:32],
            title=f"{job.quiz.name} — attempt {attempt.attempt} — {user.username or user.id}",
            author=header.user_fullname,
            subject=f"{job.course.fullname}: quiz attempt {attempt.id}",
            created=ctx.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        result = await self._pool.render(
            RenderTask(f"attempt {attempt.id}", document.html, document.resources, options, pdf_path)
        )
        for url in result.missing_resources:
            await self._warn(job, f"attempt {attempt.id}: resource not available to the renderer: {url}")
        for url in result.broken_resources:
            await self._warn(job, f"attempt {attempt.id}: image could not be decoded, left out: {url[:120]}")
        if settings.keep_html:
            await asyncio.to_thread(
                write_atomically, ctx.payload_dir / f"{relative}.html", document.standalone_html().encode()
            )
        return {
            "attemptid": attempt.id,
            "attempt": attempt.attempt,
            "userid": user.id,
            "username": user.username or "",
            "firstname": user.firstname or "",
            "lastname": user.lastname or "",
            "idnumber": user.idnumber or "",
            "state": str(attempt.state),
            "timestart": attempt.timestart,
            "timefinish": attempt.timefinish,
            "sumgrades": "" if review.attempt.sumgrades is None else review.attempt.sumgrades,
            "grade": "" if review.grade is None else review.grade,
            "path": f"{relative}.pdf",
            "sha256": result.sha256,
            "size": result.size,
        }

    async def _images(self, job: _Job, urls: list[str]) -> dict[str, Resource | None]:
        client = self.env.moodle

        async def one(url: str) -> tuple[str, Resource | None]:
            if url.startswith("data:"):
                return url, None  # decoded by the report builder
            try:
                fetched = await client.fetch_file(url, max_bytes=IMAGE_MAX_BYTES)
            except ArchivedError as exc:
                if exc.recoverable:
                    raise  # the whole attempt is retried later; a flaky network is no reason for a placeholder
                await self._warn(
                    job, f"image {client.redact(url) if hasattr(client, 'redact') else url} not available: {exc}"
                )
                return url, None
            return url, Resource(fetched.content or b"", fetched.content_type or "application/octet-stream")

        return dict(await asyncio.gather(*(one(u) for u in urls)))

    async def _attachments(self, job: _Job, review: Any, folder: Path) -> None:
        for question in review.questions:
            for area in question.responsefileareas:
                for file in area.files:
                    if not file.fileurl:
                        continue
                    name = sanitise_segment(file.filename)
                    target = folder / "attachments" / str(question.slot) / name
                    # sanitise_segment never yields '/' or '..'; this is the belt to those braces.
                    if name in {"", ".", ".."} or "/" in name or "\\" in name:
                        raise FatalError(f"attachment name {file.filename!r} would leave the attempt folder")
                    await self.env.moodle.download(file.fileurl, target, max_bytes=ATTACHMENT_MAX_BYTES)

    async def _warn(self, job: _Job, message: str) -> None:
        if message not in job.warnings_logged:
            job.warnings_logged.add(message)
            await job.ctx.log(LogLevel.WARNING, message)


def _first_error(group: BaseExceptionGroup) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]


def _unchanged(path: Path, record: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        return False
    try:
        check_pdf(data, task_id=str(path.name))
    except ArchivedError:
        return False
    return True


def write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to `path` through a temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, out.getvalue().encode("utf-8"))
