"""The operator's actions on a job, shared by the dashboard, the jobs table and the job detail.

Each runs inside a screen worker (dialogs are awaited), asks first where the action cannot be undone,
and shows the daemon's own message when it refuses.
"""

from __future__ import annotations

from textual.content import Content

from archived.protocol.errors import RpcError
from archived.protocol.jobs import JobSummary
from archived_tui.api import JobRequest
from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.dialogs.delete_job import DeleteJobDialog
from archived_tui.dialogs.new_job import ActivityTarget, NewJobDialog
from archived_tui.format import short_id
from archived_tui.safe_text import visible
from archived_tui.screens.base import DaemonScreen


async def retry_job(screen: DaemonScreen, job: JobSummary) -> JobSummary | None:
    """Queue a failed, canceled or timed-out job again (it resumes at its first unfinished stage)."""
    result = await screen.attempt(f"Retry job {short_id(job.id)}", screen.link.api.retry_job(job.id))
    if result is not None:
        screen.notify(f"Job {short_id(job.id)} is queued again.", title="Retry")
    return result


async def cancel_job(screen: DaemonScreen, job: JobSummary) -> JobSummary | None:
    """Ask, then cancel a job that has not ended."""
    body = Content.from_markup(
        "[b]$activity[/b] in $course is $state.\n\nThe job stops at its next checkpoint, cleans up its work "
        "folder and ends as [b]canceled[/b]; nothing is stored. It can be retried later.",
        activity=visible(job.activity_label),
        course=visible(job.course_label),
        state=job.state.replace("_", " "),
    )
    dialog = ConfirmDialog(f"Cancel job {short_id(job.id)}?", body, confirm="Cancel the job", keep="Let it run")
    if not await screen.app.push_screen_wait(dialog):
        return None
    result = await screen.attempt(f"Cancel job {short_id(job.id)}", screen.link.api.cancel_job(job.id))
    if result is not None:
        screen.notify(f"Job {short_id(job.id)} is {result.state.replace('_', ' ')}.", title="Cancel")
    return result


async def delete_job(screen: DaemonScreen, job_id: str) -> JobSummary | None:
    """Show exactly what would be deleted, ask, then delete the job's stored archives."""
    view = await screen.attempt(f"Delete job {short_id(job_id)}", screen.link.api.get_job(job_id))
    if view is None:
        return None
    decision = await screen.app.push_screen_wait(DeleteJobDialog(view, tz=screen.ctx.tz, now=screen.ctx.clock()))
    if decision is None:
        return None
    try:
        deletion = await screen.link.api.delete_job(job_id, force=decision.force)
    except RpcError as exc:
        # The daemon's refusal names the CLI's flag; here the way is the dialog's force box.
        message = exc.message.replace("(archived jobs delete --force)", "(tick “anyway (force)” in the dialog)")
        screen.notify(f"Delete job {short_id(job_id)}: {message}", title="Refused by the daemon", severity="error",
                      timeout=10)  # fmt: skip
        return None
    removed = ", ".join(deletion.deleted) if deletion.deleted else "no stored copies"
    screen.notify(f"Job {short_id(job_id)} deleted; removed {removed}.", title="Delete", timeout=8)
    return deletion.job


async def new_job(screen: DaemonScreen, target: ActivityTarget | None = None) -> JobSummary | None:
    """Open the new-job dialog and queue the job it describes."""
    api = screen.link.api
    drivers = await screen.attempt("Load the activity drivers", api.drivers())
    if drivers is None:
        return None
    request: JobRequest | None = await screen.app.push_screen_wait(
        NewJobDialog(describe=api.describe_settings, drivers=drivers, target=target, lookup=api.show_course)
    )
    if request is None:
        return None
    created = await screen.attempt("Start the archive job", api.create_job(request))
    if created is None:
        return None
    job, forced = created
    note = f" Locked by the preset, not changed: {', '.join(forced)}." if forced else ""
    screen.notify(f"Job {short_id(job.id)} queued for {job.activity_label}.{note}", title="Archive job")
    return job
