"""The quiz driver: every (non-preview) attempt of a quiz → one PDF/A report, its attachments, attempts.csv.

Per attempt: fetch the review from Moodle, clean and assemble the report HTML, render the formulas (MathJax,
batched), download the images (down-scaled later in the render worker), render the PDF/A in the worker pool,
check it, write it atomically, record a checkpoint. A restarted stage skips attempts whose files are still
there with the recorded checksums, and removes files of earlier runs that no longer belong to the archive. One
attempt that still fails after its retries fails the job, naming it. Missing images are not fatal: the report
shows a placeholder and the job log a warning. A missing attachment is fatal: it is the student's own work.

Where files go is decided for all attempts before any is fetched, in attempt-id order, so that a resumed run
puts every file where the first run did: a folder or file name that several attempts share is made unique
(`_<attemptid>`), and attachments of attempts sharing a folder go under `attachments/<attemptid>/<slot>/`.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from archived.archive.names import SEGMENT_MAX_BYTES, render_name, render_path, sanitise_segment, time_variables
from archived.durable import write_atomic
from archived.errors import ArchivedError, FatalError, RecoverableError
from archived.interfaces.activity import (
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
from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_quiz.xml_chars import clean_line, cleaning_note
from archived_render.images import ImageLimits, sniff_image_mime
from archived_render.math import MathRenderer
from archived_render.pdf_check import check_pdf
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderOptions, RenderTask, Resource

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "attemptid", "attempt", "userid", "username", "firstname", "lastname", "idnumber", "state",
    "timestart", "timefinish", "sumgrades", "grade", "path", "sha256",
)  # fmt: skip
IMAGE_MAX_BYTES = 32 * 1024 * 1024
CHECKPOINT_SECONDS = 2.0
ATTACHMENT_MAX_BYTES = 1024 * 1024 * 1024


class QuizNotFoundError(FatalError):
    """The course module is not a quiz the service user can see."""

    code = "quiz_not_found"


class AttemptFailedError(ArchivedError):
    """One attempt could not be archived; the job fails and names it. Recoverable when the cause was."""

    code = "attempt_failed"

    def __init__(self, attempt_id: int, username: str, cause: BaseException) -> None:
        # An unexpected exception's text alone (a KeyError's "'slot'") says nothing; name its type too.
        reason = str(cause) if isinstance(cause, ArchivedError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"attempt {attempt_id} (user {username or '?'}) could not be archived: {reason}")
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


@dataclass(frozen=True)
class AttemptPaths:
    """Where one attempt's files go, relative to the payload folder (`attempts/…`)."""

    folder: str  # attempts/<folder pattern>
    stem: str  # attempts/<folder>/<file pattern>, without .pdf/.html
    attachments: str  # attempts/<folder>/attachments, or …/attachments/<attemptid> in a shared folder

    @property
    def pdf(self) -> str:
        """The report's path."""
        return f"{self.stem}.pdf"

    @property
    def html(self) -> str:
        """The optional HTML copy's path."""
        return f"{self.stem}.html"


def plan_paths(folders: dict[int, str], names: dict[int, str]) -> dict[int, AttemptPaths]:
    """Unique paths for attempts given their rendered folder and file names (keys: attempt ids).

    Decided in attempt-id order so that every run of a job gets the same answer. Names are compared
    case-insensitively: an archive is unpacked on case-insensitive file systems too.
    """
    sharing: dict[str, int] = {}
    for attempt_id in sorted(folders):
        key = folders[attempt_id].casefold()
        sharing[key] = sharing.get(key, 0) + 1
    used: set[str] = set()
    plans: dict[int, AttemptPaths] = {}
    for attempt_id in sorted(folders):
        folder = f"attempts/{folders[attempt_id]}"
        name = names[attempt_id]
        number = 1
        # A file pattern without ${attemptid}: attempts must not overwrite each other's reports. The suffixed
        # name may be another attempt's natural name too ("report_7"), hence the loop.
        while f"{folder}/{name}".casefold() in used:
            suffix = f"_{attempt_id}" + (f"-{number}" if number > 1 else "")
            name = names[attempt_id][: SEGMENT_MAX_BYTES - len(suffix)] + suffix
            number += 1
        stem = f"{folder}/{name}"
        used.add(stem.casefold())
        attachments = f"{folder}/attachments"
        if sharing[folders[attempt_id].casefold()] > 1:
            # Two attempts in one folder both have a slot 11 and may both have uploaded "scan.pdf".
            attachments = f"{attachments}/{attempt_id}"
        plans[attempt_id] = AttemptPaths(folder, stem, attachments)
    return plans


def unique_file_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2.ext`, `name-3.ext`, … if a file of that name (case-insensitively) is in `taken`."""
    if name.casefold() not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    number = 2
    while True:
        suffix = f"-{number}{dot}{extension}"
        candidate = stem[: SEGMENT_MAX_BYTES - len(suffix.encode())] + suffix
        if candidate.casefold() not in taken:
            return candidate
        number += 1


@dataclass(frozen=True, slots=True)
class Group:
    """A course group a student is in (what file name patterns use)."""

    id: int
    name: str
    idnumber: str = ""


@dataclass(frozen=True, slots=True)
class Student:
    """What a quiz job keeps of an enrolled user for its whole run.

    A job holds every student of the course until it ends; the web service's user record (about 9 KiB each
    as a model, 6 KiB with only the fields asked for) would make a course of 10,000 students cost the daemon
    ~90 MiB. This is a few hundred bytes. Every text is safe for XML, UTF-8 and CSV (`xml_chars`); `cleaned`
    names the fields that Moodle sent with characters that had to be replaced.
    """

    id: int
    username: str | None
    firstname: str | None
    lastname: str | None
    fullname: str
    idnumber: str | None
    groups: tuple[Group, ...] = ()
    cleaned: tuple[str, ...] = ()

    @classmethod
    def of(cls, user: Any) -> Student:
        """From a `core_enrol_get_enrolled_users` entry."""
        cleaned: list[str] = []

        def safe(field: str, value: Any) -> Any:
            if not isinstance(value, str):
                return value
            clean = clean_line(value)
            if clean != value:
                cleaned.append(field)
            return clean

        names = (safe("username", user.username), safe("firstname", user.firstname), safe("lastname", user.lastname),
                 safe("fullname", user.fullname or ""), safe("idnumber", user.idnumber))  # fmt: skip
        groups = tuple(
            Group(g.id, safe(f"group {g.id} name", g.name or ""),
                  safe(f"group {g.id} idnumber", str(getattr(g, "idnumber", "") or "")))
            for g in getattr(user, "groups", ()) or ()
        )  # fmt: skip
        return cls(user.id, *names, groups, tuple(cleaned))


def cleaned_model(model: Any, where: str, fields: tuple[str, ...], notes: list[str]) -> Any:
    """A Moodle record (course, quiz, site) with its text `fields` made safe (`xml_chars`); a note if any changed."""
    changes = {}
    for name in fields:
        value = getattr(model, name, None)
        if isinstance(value, str) and clean_line(value) != value:
            changes[name] = clean_line(value)
    if not changes:
        return model
    notes.append(cleaning_note(where, changes))
    return model.model_copy(update=changes)


@dataclass(frozen=True, slots=True)
class AttemptRef:
    """What a quiz job keeps of an attempt from the listing (the review is fetched when it is rendered)."""

    id: int
    attempt: int
    state: str
    timestart: int
    timefinish: int
    timemodified: int | None

    @classmethod
    def of(cls, attempt: Any) -> AttemptRef:
        """From a `mod_quiz_get_user_attempts` entry."""
        return cls(
            attempt.id, attempt.attempt, str(attempt.state), attempt.timestart or 0, attempt.timefinish or 0,
            attempt.timemodified,
        )  # fmt: skip


# The user fields a quiz job uses (Moodle always adds id and fullname): a tenth of a full user record to send,
# parse and validate. One request, not pages: Moodle drops users the token may not see after applying the page
# limit (short pages), and enrolments changing between pages would skip or repeat students.
USER_FIELDS = ("id", "username", "firstname", "lastname", "fullname", "idnumber", "groups")


async def enrolled_students(api: Any, course_id: int) -> list[Student]:
    """Every user enrolled in the course, as `Student` records."""
    return [Student.of(user) for user in await api.enrolled_users(course_id, userfields=USER_FIELDS)]


@dataclass
class _Job:
    """Everything one `archive` run shares between its attempts."""

    ctx: ArchiveContext
    settings: QuizSettings
    api: Any
    course: Any
    quiz: Any
    done: dict[str, dict[str, Any]]
    paths: dict[int, AttemptPaths]
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
                weasyprint_patches=self.env.weasyprint_patches,
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
        """Archivable now (has finished real attempts) and fingerprint (quiz + newest attempt time-modified)."""
        api = self._api()
        quizzes = {q.coursemodule: q for q in (await api.quizzes_by_courses([course_id])).quizzes}
        users = await enrolled_students(api, course_id)
        statuses = []
        for cmid in cmids:
            quiz = quizzes.get(cmid)
            if quiz is None:
                statuses.append(ActivityStatus(cmid, "", False, "quiz not found or not visible to the service user"))
                continue
            quiz = cleaned_model(quiz, f"quiz {quiz.id}", ("name",), [])
            attempts = await self._all_attempts(api, quiz.id, users)
            fingerprint = quiz_fingerprint(quiz, attempts)
            finished = sum(1 for _, a in attempts if str(a.state) == "finished")
            reason = None
            if not attempts:
                reason = "no attempts yet"
            elif not finished:
                reason = f"no finished attempts yet ({len(attempts)} not finished)"
            statuses.append(ActivityStatus(cmid, quiz.name, finished > 0, reason, fingerprint))
        return statuses

    async def _all_attempts(self, api: Any, quiz_id: int, users: list[Any]) -> list[tuple[Any, AttemptRef]]:
        """Every real attempt (no previews) of the quiz by the given users, by attempt id.

        Moodle lists attempts user by user; four requests at a time, from four runners sharing one iterator
        (not one task per user: a course may have thousands).
        """
        found: list[tuple[Any, AttemptRef]] = []
        pending = iter(users)

        async def runner() -> None:
            for user in pending:
                answer = await api.user_attempts(quiz_id, user.id, status="all")
                found.extend((user, AttemptRef.of(a)) for a in answer.attempts if not a.preview)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(4, len(users))):
                    group.create_task(runner())
        except BaseExceptionGroup as group_error:
            raise _errors(group_error)[0] from None  # the Moodle error itself, for the engine to classify
        return sorted(found, key=lambda pair: pair[1].id)

    # -- archive --------------------------------------------------------------------------------------------

    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Write attempts/…pdf (+ attachments, + html), attempts.csv; return the users included."""
        await self.start()
        assert self._pool is not None and self._math is not None
        settings = ctx.settings if isinstance(ctx.settings, QuizSettings) else QuizSettings.model_validate(ctx.settings)
        api = self._api()
        # Names from Moodle reach the report, the PDF metadata, attempts.csv, job.json, bag-info.txt and file
        # names: characters none of those can carry are replaced once, here, and the job log says where.
        notes: list[str] = []
        site = cleaned_model(await api.site_info(), "Moodle site", ("siteurl", "release"), notes)
        courses = (await api.courses_by_field("id", ctx.course_id)).courses
        if not courses:
            raise FatalError(
                f"course {ctx.course_id} not found or not visible to the service user", code="course_not_found"
            )
        course = cleaned_model(courses[0], f"course {ctx.course_id}", ("fullname", "shortname"), notes)
        quiz = next(
            (q for q in (await api.quizzes_by_courses([ctx.course_id])).quizzes if q.coursemodule == ctx.cmid), None
        )
        if quiz is None:
            raise QuizNotFoundError(f"course module {ctx.cmid} in course {ctx.course_id} is not a visible quiz")
        quiz = cleaned_model(quiz, f"quiz {quiz.id}", ("name",), notes)
        for note in notes:
            await ctx.log(LogLevel.WARNING, note)
        if not self._math.available:
            await ctx.log(LogLevel.WARNING, f"formulas are shown as TeX source: {self._math.reason}")

        enrolled = await enrolled_students(api, ctx.course_id)
        states = {str(s) for s in settings.attempt_states}
        every_attempt = await self._all_attempts(api, quiz.id, enrolled)
        attempts = [(u, a) for u, a in every_attempt if str(a.state) in states]
        done = await ctx.load_checkpoint_items()  # attempts finished by an earlier run, recorded one by one
        job = _Job(ctx, settings, api, course, quiz, done, {}, set())
        job.paths = self._plan(job, attempts)
        await ctx.log(LogLevel.INFO, f"{len(attempts)} attempt(s) of quiz {quiz.id} ({quiz.name}) to archive")

        total = len(attempts)
        finished = 0
        progress_lock = asyncio.Lock()

        last_checkpoint = time.monotonic()
        unrecorded: dict[str, dict[str, Any]] = {}  # finished since the last checkpoint write

        async def one(user: Any, attempt: Any) -> None:
            nonlocal finished, last_checkpoint
            try:
                row = await self._attempt(job, user, attempt)
            except (asyncio.CancelledError, AttemptFailedError):
                raise
            except Exception as exc:
                raise attempt_failed(attempt.id, user.username or "", exc) from exc
            async with progress_lock:
                finished += 1
                # Finished rows live in the store, not in memory: kept, thousands of small dicts would stay
                # alive between the parsing garbage of every attempt and pin the memory around them.
                unrecorded[str(attempt.id)] = row
                # One transaction per few seconds, not per attempt: a crash loses at most those seconds' work.
                if time.monotonic() - last_checkpoint >= CHECKPOINT_SECONDS or finished == total:
                    batch = dict(unrecorded)
                    unrecorded.clear()
                    await ctx.save_checkpoint_items(batch)
                    last_checkpoint = time.monotonic()
                await ctx.progress(100.0 * finished / max(1, total), f"rendered attempt {finished}/{total}")

        # A fixed number of runners take the attempts one by one from a shared iterator (the event loop hands
        # each attempt to exactly one of them): enough to keep the fetches and every render worker busy, and
        # no task per attempt waiting in memory for a quiz of thousands.
        pending = iter(attempts)

        async def runner() -> None:
            for user, attempt in pending:
                await one(user, attempt)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(len(attempts), settings.fetch_concurrency + self._pool.processes)):
                    group.create_task(runner())
        except BaseExceptionGroup as group_error:
            errors = _errors(group_error)
            try:
                await ctx.save_checkpoint_items(unrecorded)  # what did finish is not done again by a retry
            except Exception as exc:
                # The job's own failure is what the operator must see; a retry just renders these again.
                log.warning("job %s: finished attempts not recorded for the retry: %s", ctx.job_id, exc)
            for other in errors[1:]:  # the engine logs the one raised; the others would be lost
                await ctx.log(LogLevel.ERROR, str(other))
            raise errors[0] from None

        wanted = {str(attempt.id) for _, attempt in attempts}
        recorded = await ctx.load_checkpoint_items()
        rows = {int(key): row for key, row in recorded.items() if key in wanted}
        keep = {row["path"] for row in rows.values()} | {name for row in rows.values() for name in row["files"]}
        removed = await asyncio.to_thread(_prune, ctx.payload_dir, "attempts", keep)
        if removed:
            await ctx.log(LogLevel.INFO, f"removed {removed} file(s) of an earlier run that no longer belong here")
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

    def _plan(self, job: _Job, attempts: list[tuple[Any, Any]]) -> dict[int, AttemptPaths]:
        folders: dict[int, str] = {}
        names: dict[int, str] = {}
        for user, attempt in attempts:
            variables = self._variables(job, user, attempt)
            folders[attempt.id] = render_path(job.settings.folder_pattern, variables)
            names[attempt.id] = render_name(job.settings.file_pattern, variables)
        return plan_paths(folders, names)

    async def _attempt(self, job: _Job, user: Any, attempt: Any) -> dict[str, Any]:
        ctx, settings = job.ctx, job.settings
        paths = job.paths[attempt.id]
        pdf_path = ctx.payload_dir / paths.pdf
        previous = job.done.get(str(attempt.id))
        if (
            previous
            and previous.get("path") == paths.pdf
            and isinstance(previous.get("files"), dict)
            and (paths.html in previous["files"]) == settings.keep_html
            and all(f == paths.html or f.startswith(f"{paths.attachments}/") for f in previous["files"])
            and await asyncio.to_thread(_unchanged, ctx.payload_dir, previous)
        ):
            return previous  # finished in an earlier run and still intact

        if user.cleaned:
            await self._warn(job, cleaning_note(f"attempt {attempt.id}: user {user.id}", user.cleaned))
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
        # Cleaning and assembling a big attempt's HTML takes tens of milliseconds: keep the event loop free.
        prepared = await asyncio.to_thread(
            prepare_report, header, questions, settings, title=f"{job.quiz.name} — attempt {attempt.id}"
        )
        assert self._math is not None and self._pool is not None
        formulas, images = await asyncio.gather(
            self._math.render_many(prepared.formulas), self._images(job, prepared.image_urls)
        )
        document = await asyncio.to_thread(finish_report, prepared, formulas, images)
        for warning in document.warnings:
            await self._warn(job, self._redact(f"attempt {attempt.id}: {warning}"))

        files: dict[str, str] = {}
        if settings.section_attachments:
            files.update(await self._attachments(job, review, paths.attachments))
        options = RenderOptions(
            pdf_variant=settings.pdf_variant,
            page_size=settings.paper_format.css_size,
            identifier=hashlib.sha256(f"{ctx.job_id}:{attempt.id}".encode()).hexdigest()[:32],
            title=f"{job.quiz.name} — attempt {attempt.attempt} — {user.username or user.id}",
            author=header.user_fullname,
            subject=f"{job.course.fullname}: quiz attempt {attempt.id}",
            created=ctx.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            image_limits=ImageLimits(settings.image_max_width, settings.image_max_height, settings.image_jpeg_quality),
        )
        result = await self._pool.render(
            RenderTask(f"attempt {attempt.id}", document.html, document.resources, options, pdf_path)
        )
        for url in result.missing_resources:
            await self._warn(job, f"attempt {attempt.id}: resource not available to the renderer: {url}")
        for url in result.broken_resources:
            await self._warn(job, f"attempt {attempt.id}: image could not be decoded, left out: {url[:120]}")
        if settings.keep_html:
            html = document.standalone_html().encode()
            await asyncio.to_thread(write_atomic, ctx.payload_dir / paths.html, html)
            files[paths.html] = hashlib.sha256(html).hexdigest()
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
            "path": paths.pdf,
            "sha256": result.sha256,
            "size": result.size,
            "files": files,  # attachments and the HTML copy: relative path → SHA-256
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
            data = fetched.content or b""
            mime = fetched.content_type or ""
            if not mime.startswith("image/"):  # the render worker scales down only what is labelled an image
                mime = sniff_image_mime(data) or mime or "application/octet-stream"
            return url, Resource(data, mime)

        return dict(await asyncio.gather(*(one(u) for u in urls)))

    async def _attachments(self, job: _Job, review: Any, folder: str) -> dict[str, str]:
        """Download every uploaded file; returns relative path → SHA-256."""
        stored: dict[str, str] = {}
        for question in review.questions:
            taken: set[str] = set()  # per slot; two files may sanitise to one name ("a b.pdf", "a_b.pdf")
            for area in question.responsefileareas:
                for file in area.files:
                    if not file.fileurl:  # nothing to download; say so rather than lose it silently
                        where = f"attempt {review.attempt.id}, slot {question.slot}"
                        await self._warn(job, f"{where}: Moodle gave no URL for attachment {file.filename!r}")
                        continue
                    name = unique_file_name(sanitise_segment(file.filename or "attachment"), taken)
                    # sanitise_segment never yields '/' or '..'; this is the belt to those braces.
                    if name in {"", ".", ".."} or "/" in name or "\\" in name:
                        raise FatalError(f"attachment name {file.filename!r} would leave the attempt folder")
                    taken.add(name.casefold())
                    relative = f"{folder}/{int(question.slot)}/{name}"
                    fetched = await self.env.moodle.download(
                        file.fileurl, job.ctx.payload_dir / relative, max_bytes=ATTACHMENT_MAX_BYTES
                    )
                    stored[relative] = fetched.sha256
        return stored

    def _redact(self, text: str) -> str:
        """`text` without the Moodle token (a URL in the question HTML might carry one)."""
        client = self.env.moodle
        return client.redact(text) if hasattr(client, "redact") else text

    async def _warn(self, job: _Job, message: str) -> None:
        if message not in job.warnings_logged:
            job.warnings_logged.add(message)
            await job.ctx.log(LogLevel.WARNING, message)


def _errors(group: BaseExceptionGroup) -> list[BaseException]:
    """The errors of a task group, nested groups flattened, cancellations last."""
    flat: list[BaseException] = []
    for error in group.exceptions:
        flat.extend(_errors(error) if isinstance(error, BaseExceptionGroup) else [error])
    return sorted(flat, key=lambda error: isinstance(error, asyncio.CancelledError))


def _unchanged(payload: Path, record: dict[str, Any]) -> bool:
    """Whether an attempt finished earlier is still complete: its PDF and every other file with its checksum."""
    path = payload / record["path"]
    if not path.is_file():
        return False
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        return False
    try:
        check_pdf(data, task_id=str(path.name))
    except ArchivedError:
        return False
    return all(_sha256_of(payload / relative) == digest for relative, digest in record["files"].items())


def _sha256_of(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _prune(payload: Path, top: str, keep: set[str]) -> int:
    """Remove files under `payload/top` that are not in `keep` (relative paths), then empty folders."""
    root = payload / top
    if not root.is_dir():
        return 0
    removed = 0
    for path in sorted(root.rglob("*"), reverse=True):  # children before their folders
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.relative_to(payload).as_posix() not in keep:
            path.unlink()
            removed += 1
    return removed


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, out.getvalue().encode("utf-8"))
