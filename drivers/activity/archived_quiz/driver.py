"""The quiz driver: every (non-preview) attempt of a quiz → one PDF/A report, its attachments, attempts.csv.

The driver orchestrates one run of a job's activity stage: it reads the course, the quiz, its students and their
attempts from the typed Moodle API (`moodle_records`), decides where every attempt's files go before any is
fetched (`attempt_paths`), then runs a fixed number of attempt runners through the attempt pipeline
(`attempt_pipeline`: fetch → prepare → render → store) while finished attempts are recorded in batches
(`checkpoints`). Rendering goes to the daemon's render service, in this job's own session. A restarted stage
skips attempts whose files are still there with the recorded checksums, and removes files of earlier runs that
no longer belong to the archive. One attempt that still fails after its retries fails the job, naming it.
Students are the enrolled users plus those seen in the course before (`completeness`); the archive states
what was checked.
"""

from __future__ import annotations

import asyncio
import contextlib

from archived.errors import FatalError
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
from archived_quiz.attempt_paths import plan_attempt_paths
from archived_quiz.attempt_pipeline import AttemptPipeline, QuizRun
from archived_quiz.attempt_record import AttemptRecord, write_attempts_csv
from archived_quiz.checkpoints import CheckpointBatcher, load_records
from archived_quiz.completeness import (
    Completeness,
    departed_students,
    list_departed_attempts,
    seen_user,
    sweep_attempt_ids,
)
from archived_quiz.errors import AttemptFailedError, QuizNotFoundError, attempt_failed
from archived_quiz.moodle_records import (
    AttemptRef,
    Student,
    cleaned_model,
    enrolled_students,
    list_attempts,
    quiz_fingerprint,
    quiz_last_modified,
)
from archived_quiz.payload_files import prune
from archived_quiz.runners import RunnersFailed, run_each
from archived_quiz.settings import QuizSettings
from archived_render.dask_pool import ClusterUnavailable


class QuizDriver(ActivityDriver):
    """Archives Moodle quizzes as per-attempt PDF/A reports."""

    name = "quiz"
    modname = "quiz"
    title = "Quiz"
    settings_model = QuizSettings

    # -- inspect --------------------------------------------------------------------------------------------

    async def inspect(self, course_id: int, cmids: list[int]) -> list[ActivityStatus]:
        """Archivable now (has finished real attempts) and fingerprint (quiz + newest attempt time-modified)."""
        api = self.moodle()
        quizzes = {q.coursemodule: q for q in (await api.quizzes_by_courses([course_id])).quizzes}
        students = await enrolled_students(api, course_id)
        departed = await departed_students(self.env.course_users, course_id, students)
        statuses = []
        for cmid in cmids:
            quiz = quizzes.get(cmid)
            if quiz is None:
                statuses.append(ActivityStatus(cmid, "", False, "quiz not found or not visible to the service user"))
                continue
            quiz = cleaned_model(quiz, f"quiz {quiz.id}", ("name",), [])
            attempts = await list_attempts(api, quiz.id, students)
            attempts += (await list_departed_attempts(api, quiz.id, departed))[0]
            fingerprint = quiz_fingerprint(quiz, attempts)
            finished = sum(1 for _, a in attempts if a.state == "finished")
            reason = None
            if not attempts:
                reason = "no attempts yet"
            elif not finished:
                reason = f"no finished attempts yet ({len(attempts)} not finished)"
            statuses.append(ActivityStatus(cmid, quiz.name, finished > 0, reason, fingerprint))
        return statuses

    # -- archive --------------------------------------------------------------------------------------------

    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Write attempts/…pdf (+ attachments, + html), attempts.csv; return the users included."""
        settings = ctx.settings if isinstance(ctx.settings, QuizSettings) else QuizSettings.model_validate(ctx.settings)
        api = self.moodle()
        render = self.render_service().session(f"job {ctx.job_id}")
        # Names from Moodle reach the report, the PDF metadata, attempts.csv, job.json, bag-info.txt and file
        # names: characters none of those can carry are replaced once, here, and the job log says where.
        notes: list[str] = []
        # Asked again for every job (the API caches it): the archive states the release Moodle runs now.
        site = cleaned_model(await api.site_info(refresh=True), "Moodle site", ("siteurl", "release"), notes)
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
        if render.math_problem is not None:
            await ctx.log(LogLevel.WARNING, f"formulas are shown as TeX source: {render.math_problem}")

        students = await enrolled_students(api, ctx.course_id)
        # Users seen in the course before but no longer enrolled: Moodle keeps their attempts, lists them no more.
        departed = await departed_students(self.env.course_users, ctx.course_id, students)
        states = {str(s) for s in settings.attempt_states}
        every_attempt = await list_attempts(api, quiz.id, students)
        departed_attempts, unreachable = await list_departed_attempts(api, quiz.id, departed)
        every_attempt = sorted(every_attempt + departed_attempts, key=lambda pair: pair[1].id)
        sweep = None
        if settings.attempt_id_sweep:
            known = {attempt.id for _, attempt in every_attempt}
            sweep = await sweep_attempt_ids(
                api, quiz.id, known, margin=settings.attempt_id_sweep_margin, limit=settings.attempt_id_sweep_max
            )
            if sweep is not None and sweep.found:
                every_attempt = sorted(every_attempt + sweep.found, key=lambda pair: pair[1].id)
                if self.env.course_users is not None:  # asked about by name from now on
                    await self.env.course_users.remember(ctx.course_id, [seen_user(s) for s, _ in sweep.found])
        attempts = [(s, a) for s, a in every_attempt if a.state in states]
        completeness = Completeness(
            listing_function=await api.attempts_function(),
            tracked=self.env.course_users is not None,
            enrolled=students,
            departed=departed,
            unreachable=unreachable,
            attempts=every_attempt,
            archived_states=states,
            sweep=sweep,
            sweep_asked=settings.attempt_id_sweep,
        ).to_dict()
        for line in completeness["statement"]:
            await ctx.log(LogLevel.INFO if completeness["complete"] else LogLevel.WARNING, f"completeness: {line}")
        paths = plan_attempt_paths(
            course, quiz, ctx.cmid, ctx.created_at, (settings.folder_pattern, settings.file_pattern), attempts
        )
        done = await load_records(ctx)  # attempts finished by an earlier run, recorded one by one
        run = QuizRun(ctx, settings, api, render, course, quiz, done, paths)
        await ctx.log(LogLevel.INFO, f"{len(attempts)} attempt(s) of quiz {quiz.id} ({quiz.name}) to archive")
        await self._archive_attempts(run, attempts)

        wanted = {attempt.id for _, attempt in attempts}
        records = {key: record for key, record in (await load_records(ctx)).items() if key in wanted}
        if missing := sorted(wanted - set(records)):
            raise FatalError(
                f"attempts {', '.join(map(str, missing[:10]))} were archived but their records are missing from "
                "the job's checkpoint; retry the job", code="internal",
            )  # fmt: skip
        keep = {r.path for r in records.values()} | {name for r in records.values() for name in r.files}
        removed = await asyncio.to_thread(prune, ctx.payload_dir, "attempts", keep)
        if removed:
            await ctx.log(LogLevel.INFO, f"removed {removed} file(s) of an earlier run that no longer belong here")
        await asyncio.to_thread(write_attempts_csv, ctx.payload_dir / "attempts.csv", [records[k] for k in
                                                                                       sorted(records)])  # fmt: skip
        included: dict[int, IncludedUser] = {}
        for student, _attempt in attempts:
            included[student.id] = IncludedUser(student.id, student.username or "", student.firstname or "",
                                                 student.lastname or "", student.idnumber or "")  # fmt: skip
        return ActivityResult(
            course=CourseRef(course.id, course.shortname, course.fullname, course.categoryid),
            activity=ActivityRef(ctx.cmid, "quiz", quiz.id, quiz.name),
            users=[included[k] for k in sorted(included)],
            summary={"attempts": len(records), "quiz_id": quiz.id, "completeness": completeness},
            moodle_site=site.siteurl,
            moodle_release=site.release or "",
            fingerprint=quiz_fingerprint(quiz, every_attempt),
            last_modified=quiz_last_modified(quiz, every_attempt),
        )

    async def _archive_attempts(self, run: QuizRun, attempts: list[tuple[Student, AttemptRef]]) -> None:
        """Every attempt through the pipeline: enough runners to keep the fetches and every render worker busy."""
        pipeline = AttemptPipeline(run)
        batcher = CheckpointBatcher(run.ctx, len(attempts))

        async def one(pair: tuple[Student, AttemptRef]) -> None:
            student, attempt = pair
            try:
                record: AttemptRecord = await pipeline.archive(student, attempt)
            except (asyncio.CancelledError, AttemptFailedError):
                raise
            except Exception as exc:
                raise attempt_failed(attempt.id, student.username or "", exc) from exc
            await batcher.add(record)

        if attempts:
            # The render backend decides how many attempts are worth keeping in flight (a cluster may have dozens
            # of slots); a cluster that is not ready fails the first render that needs it, not attempts already done.
            with contextlib.suppress(ClusterUnavailable):
                await run.render.on_cluster()
        runners = min(len(attempts), run.settings.fetch_concurrency + run.render.processes)
        try:
            await run_each(attempts, one, runners)
        except RunnersFailed as failed:
            await batcher.save_after_failure()  # what did finish is not done again by a retry
            for other in failed.errors[1:]:  # the engine logs the one raised; the others would be lost
                await run.ctx.log(LogLevel.ERROR, str(other))
            raise failed.errors[0] from None
