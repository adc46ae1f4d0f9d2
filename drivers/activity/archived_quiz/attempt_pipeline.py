"""One attempt from Moodle to payload files: fetch the review → prepare the report → render the PDF/A → store.

Per attempt: skip it if an earlier run finished it and its files are intact; else fetch the review, clean and
assemble the report HTML (in a thread), typeset the formulas (MathJax, one batch) and download the images at the
same time, download the attachments, render and check the PDF/A in the render service (the worker writes the
file itself, atomically), and write the optional HTML copy. When the job renders on render hosts, the hosts
build the HTML too (`remote_report`): the daemon fetches, typesets the formulas, downloads the images and writes
the PDF the host answers. Missing images are not fatal: the report shows a
placeholder and the job log a warning. A missing attachment is fatal: it is the student's own work.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC

from archived.archive.names import sanitise_segment
from archived.durable import write_atomic
from archived.errors import ArchivedError, FatalError
from archived.interfaces.activity import ArchiveContext, LogLevel
from archived.moodle.api import MoodleApi
from archived.moodle.models import AttemptReview, Course, Quiz
from archived_quiz.attempt_paths import AttemptPaths, unique_file_name
from archived_quiz.attempt_record import AttemptRecord
from archived_quiz.moodle_records import AttemptRef, Student
from archived_quiz.payload_files import record_intact
from archived_quiz.remote_report import ReportInputs, build_and_render, report_needs
from archived_quiz.report import AttemptHeader, QuestionInput, ReportDocument, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_quiz.xml_chars import cleaning_note
from archived_render.dask_pool import DaskRenderPool
from archived_render.images import ImageLimits, sniff_image_mime
from archived_render.render_task import RenderOptions, RenderResult, RenderTask, Resource
from archived_render.service import RenderSession

IMAGE_MAX_BYTES = 32 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 1024 * 1024 * 1024


@dataclass
class QuizRun:
    """Everything one `archive` run of a quiz job shares between its attempts."""

    ctx: ArchiveContext
    settings: QuizSettings
    api: MoodleApi
    render: RenderSession
    course: Course
    quiz: Quiz
    done: dict[int, AttemptRecord]  # finished by an earlier run of this job, by attempt id
    paths: dict[int, AttemptPaths]
    warnings_logged: set[str] = field(default_factory=set)

    async def warn(self, message: str) -> None:
        """A warning in the job log, once per run (the same missing image in 300 attempts is one line)."""
        if message not in self.warnings_logged:
            self.warnings_logged.add(message)
            await self.ctx.log(LogLevel.WARNING, message)

    async def note(self, message: str) -> None:
        """An info line in the job log, once per run."""
        if message not in self.warnings_logged:
            self.warnings_logged.add(message)
            await self.ctx.log(LogLevel.INFO, message)

    def redact(self, text: str) -> str:
        """`text` without the Moodle token (a URL in the question HTML might carry one)."""
        return self.api.client.redact(text)


class AttemptPipeline:
    """Archives the attempts of one run, one call per attempt (many may run at once)."""

    def __init__(self, run: QuizRun) -> None:
        self.run = run

    async def archive(self, student: Student, attempt: AttemptRef) -> AttemptRecord:
        """The attempt's files in the payload and its record; an earlier run's record when its files are intact."""
        run = self.run
        paths = run.paths[attempt.id]
        previous = run.done.get(attempt.id)
        if previous is not None and await self._reusable(previous, paths):
            return previous
        if student.cleaned:
            await run.warn(cleaning_note(f"attempt {attempt.id}: user {student.id}", student.cleaned))
        review = await run.api.attempt_review(attempt.id)
        header = self._header(student, attempt, review)
        questions = [QuestionInput.from_ws(q.model_dump()) for q in review.questions]
        task = RenderTask(f"attempt {attempt.id}", "", options=self._options(student, attempt, header),
                          output_path=run.ctx.payload_dir / paths.pdf)  # fmt: skip
        files: dict[str, str] = {}
        if run.settings.section_attachments:  # first: a missing attachment fails the attempt before it renders
            files.update(await self._attachments(review, paths.attachments))
        cluster = await run.render.on_cluster()
        if cluster is not None and cluster.settings.html_on_hosts:
            await run.note(f"reports are built and rendered on the render hosts of {cluster.settings.scheduler}")
            result, standalone = await self._build_on_cluster(cluster, attempt, header, questions, task)
        else:
            document = await self._report(attempt, header, questions)
            result = await run.render.render(replace(task, html=document.html, resources=document.resources))
            standalone = document.standalone_html() if run.settings.keep_html else None
        await self._result_warnings(attempt, result)
        if standalone is not None:
            html = standalone.encode()
            await asyncio.to_thread(write_atomic, run.ctx.payload_dir / paths.html, html)
            files[paths.html] = hashlib.sha256(html).hexdigest()
        return AttemptRecord(
            attemptid=attempt.id,
            attempt=attempt.attempt,
            userid=student.id,
            username=student.username or "",
            firstname=student.firstname or "",
            lastname=student.lastname or "",
            idnumber=student.idnumber or "",
            state=attempt.state,
            timestart=attempt.timestart,
            timefinish=attempt.timefinish,
            sumgrades=review.attempt.sumgrades,
            grade=review.grade,
            path=paths.pdf,
            sha256=result.sha256,
            size=result.size,
            files=files,
        )

    async def _reusable(self, previous: AttemptRecord, paths: AttemptPaths) -> bool:
        """Whether an earlier run's files for this attempt are where this run wants them, complete and intact."""
        return (
            previous.path == paths.pdf
            and (paths.html in previous.files) == self.run.settings.keep_html
            and all(f == paths.html or f.startswith(f"{paths.attachments}/") for f in previous.files)
            and await asyncio.to_thread(record_intact, self.run.ctx.payload_dir, previous)
        )

    def _header(self, student: Student, attempt: AttemptRef, review: AttemptReview) -> AttemptHeader:
        """The report's header: the attempt, the student, the quiz and the job."""
        run = self.run
        return AttemptHeader(
            attempt_id=attempt.id,
            attempt_number=attempt.attempt,
            state=attempt.state,
            timestart=attempt.timestart,
            timefinish=attempt.timefinish,
            sumgrades=review.attempt.sumgrades,
            quiz_sumgrades=run.quiz.sumgrades,
            grade=review.grade,
            quiz_grade=run.quiz.grade,
            user_fullname=" ".join(x for x in (student.firstname, student.lastname) if x) or student.fullname,
            username=student.username or "",
            idnumber=student.idnumber or "",
            course=f"{run.course.fullname} ({run.course.shortname})",
            quiz=run.quiz.name,
            overall_feedback_html=review.overall_feedback or "",
            archived_at=run.ctx.created_at,
            job_id=run.ctx.job_id,
        )

    async def _report(
        self, attempt: AttemptRef, header: AttemptHeader, questions: list[QuestionInput]
    ) -> ReportDocument:
        """The report's HTML with its formulas typeset and its images downloaded (made here, in threads)."""
        run = self.run
        # Cleaning and assembling a big attempt's HTML takes tens of milliseconds: keep the event loop free.
        prepared = await asyncio.to_thread(
            prepare_report, header, questions, run.settings, title=f"{run.quiz.name} — attempt {attempt.id}"
        )
        formulas, images = await asyncio.gather(
            run.render.render_math(prepared.formulas), self._images(prepared.image_urls)
        )
        document = await asyncio.to_thread(finish_report, prepared, formulas, images)
        for warning in document.warnings:
            await run.warn(run.redact(f"attempt {attempt.id}: {warning}"))
        return document

    async def _build_on_cluster(
        self,
        cluster: DaskRenderPool,
        attempt: AttemptRef,
        header: AttemptHeader,
        questions: list[QuestionInput],
        task: RenderTask,
    ) -> tuple[RenderResult, str | None]:
        """The report built and rendered on a render host; the daemon adds formulas and images and writes the PDF."""
        run = self.run
        title = f"{run.quiz.name} — attempt {attempt.id}"
        inputs = ReportInputs(header, questions, run.settings, title)
        lane = run.render
        needs, _ = await cluster.call(task.task_id, report_needs, inputs, lane=lane)
        formulas, images = await asyncio.gather(run.render.render_math(needs.formulas), self._images(needs.image_urls))
        built, tries = await cluster.call(
            task.task_id, build_and_render, inputs, formulas, images, replace(task, output_path=None),
            run.settings.keep_html, lane=lane,
        )  # fmt: skip
        for warning in built.warnings:
            await run.warn(run.redact(f"attempt {attempt.id}: {warning}"))
        return await cluster.keep(task, built.result, tries), built.standalone_html

    def _options(self, student: Student, attempt: AttemptRef, header: AttemptHeader) -> RenderOptions:
        """How the attempt's PDF/A is made: variant, paper, the fixed identifier and date, metadata."""
        run = self.run
        ctx, settings = run.ctx, run.settings
        return RenderOptions(
            pdf_variant=settings.pdf_variant,
            page_size=settings.paper_format.css_size,
            identifier=hashlib.sha256(f"{ctx.job_id}:{attempt.id}".encode()).hexdigest()[:32],
            title=f"{run.quiz.name} — attempt {attempt.attempt} — {student.username or student.id}",
            author=header.user_fullname,
            subject=f"{run.course.fullname}: quiz attempt {attempt.id}",
            created=ctx.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            image_limits=ImageLimits(settings.image_max_width, settings.image_max_height, settings.image_jpeg_quality),
        )

    async def _result_warnings(self, attempt: AttemptRef, result: RenderResult) -> None:
        """What the renderer could not use, in the job log."""
        run = self.run
        for url in result.missing_resources:
            await run.warn(f"attempt {attempt.id}: resource not available to the renderer: {url}")
        for url in result.broken_resources:
            await run.warn(f"attempt {attempt.id}: image could not be decoded, left out: {url[:120]}")

    async def _images(self, urls: list[str]) -> dict[str, Resource | None]:
        """Every image the report shows, by URL; None where it is a data: URL or cannot be had (a warning)."""
        client = self.run.api.client

        async def one(url: str) -> tuple[str, Resource | None]:
            if url.startswith("data:"):
                return url, None  # decoded by the report builder
            try:
                fetched = await client.fetch_file(url, max_bytes=IMAGE_MAX_BYTES)
            except ArchivedError as exc:
                if exc.recoverable:
                    raise  # the whole attempt is retried later; a flaky network is no reason for a placeholder
                await self.run.warn(f"image {client.redact(url)} not available: {exc}")
                return url, None
            data = fetched.content or b""
            mime = fetched.content_type or ""
            if not mime.startswith("image/"):  # the render worker scales down only what is labelled an image
                mime = sniff_image_mime(data) or mime or "application/octet-stream"
            return url, Resource(data, mime)

        return dict(await asyncio.gather(*(one(u) for u in urls)))

    async def _attachments(self, review: AttemptReview, folder: str) -> dict[str, str]:
        """Download every uploaded file; returns relative path → SHA-256."""
        run = self.run
        stored: dict[str, str] = {}
        for question in review.questions:
            taken: set[str] = set()  # per slot; two files may sanitise to one name ("a b.pdf", "a_b.pdf")
            for area in question.responsefileareas:
                for file in area.files:
                    if not file.fileurl:  # nothing to download; say so rather than lose it silently
                        where = f"attempt {review.attempt.id}, slot {question.slot}"
                        await run.warn(f"{where}: Moodle gave no URL for attachment {file.filename!r}")
                        continue
                    name = unique_file_name(sanitise_segment(file.filename or "attachment"), taken)
                    # sanitise_segment never yields '/' or '..'; this is the belt to those braces.
                    if name in {"", ".", ".."} or "/" in name or "\\" in name:
                        raise FatalError(f"attachment name {file.filename!r} would leave the attempt folder")
                    taken.add(name.casefold())
                    relative = f"{folder}/{int(question.slot)}/{name}"
                    fetched = await run.api.client.download(
                        file.fileurl, run.ctx.payload_dir / relative, max_bytes=ATTACHMENT_MAX_BYTES
                    )
                    stored[relative] = fetched.sha256
        return stored
