"""Actions on many jobs at once: every job a filter matches (one request to the daemon, refused if more match
than the operator was shown), or the jobs marked in the table. One confirmation, which says how many.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from textual.content import Content
from textual.notifications import SeverityLevel

from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.jobs import BulkResult, JobSummary
from archived_tui.dialogs.confirm import ConfirmDialog
from archived_tui.job_query import JobQuery
from archived_tui.job_states import CANCELABLE, RETRYABLE, TERMINAL
from archived_tui.screens.base import DaemonScreen

MatchingAction = Callable[[DaemonScreen, dict[str, Any], int, JobQuery], Awaitable[object]]


def _what(query: JobQuery) -> str:
    state = "" if query.state_filter.states is None else f"{query.state_filter.name} "
    criteria = query.describe()
    return f"{state}jobs" + (f" matching {criteria}" if criteria else "")


async def _confirm(screen: DaemonScreen, title: str, body: str, confirm: str) -> bool:
    dialog = ConfirmDialog(title, Content(body), confirm=confirm, keep="Keep")
    return await screen.app.push_screen_wait(dialog)


def _report(screen: DaemonScreen, verb: str, result: BulkResult) -> None:
    lines = [f"{verb} {result.acted:,} of {result.matched:,} matching jobs."]
    for skipped in result.skipped[:3]:
        lines.append(f"Skipped {len(skipped.job_ids):,}: {skipped.reason}.")
    severity: SeverityLevel = "information" if result.acted or not result.skipped else "warning"
    screen.notify("\n".join(lines), title=f"{verb} all", severity=severity, timeout=8)


async def _bulk(screen: DaemonScreen, what: str, call: Awaitable[BulkResult]) -> BulkResult | None:
    """Run one bulk request; MORE_MATCHES (jobs arrived since the count was shown) asks to look again."""
    try:
        return await call
    except RpcError as exc:
        if exc.code != ErrorCode.MORE_MATCHES:
            raise
        screen.notify(f"{what}: {exc.message}. Nothing was done; the table is reloaded, check it and ask again.",
                      title="More jobs match now", severity="warning", timeout=10)  # fmt: skip
        screen.request_reload()
        return None


async def retry_matching(screen: DaemonScreen, criteria: dict[str, Any], total: int, query: JobQuery) -> None:
    """Retry every failed, timed-out or canceled job among the `total` matching ones."""
    body = (f"Each of the {total:,} {_what(query)} that can be retried (failed, timed out or canceled) is queued "
            "again and resumes at its first unfinished stage; the others are left alone.")  # fmt: skip
    if not await _confirm(screen, f"Retry all {total:,} matching jobs?", body, f"Retry {total:,} jobs"):
        return
    result = await _bulk(screen, "Retry", screen.link.api.retry_matching(criteria, expected=total))
    if result is not None:
        _report(screen, "Retried", result)


async def cancel_matching(screen: DaemonScreen, criteria: dict[str, Any], total: int, query: JobQuery) -> None:
    """Cancel every job that has not ended among the `total` matching ones."""
    body = (f"Every one of the {total:,} {_what(query)} that has not ended stops at its next checkpoint and "
            "ends as canceled; nothing of it is stored. Jobs that ended are left alone.")  # fmt: skip
    if not await _confirm(screen, f"Cancel all {total:,} matching jobs?", body, f"Cancel {total:,} jobs"):
        return
    result = await _bulk(screen, "Cancel", screen.link.api.cancel_matching(criteria, expected=total))
    if result is not None:
        _report(screen, "Canceled", result)


async def delete_matching(screen: DaemonScreen, criteria: dict[str, Any], total: int, query: JobQuery) -> None:
    """Delete the stored archives of every ended job among the `total` matching ones (retained ones stay)."""
    body = (f"The stored archives of every one of the {total:,} {_what(query)} that has ended are deleted from "
            "storage; archives still under retention are kept (delete those one at a time, with force). "
            "The job records stay, as evidence.")  # fmt: skip
    if not await _confirm(screen, f"Delete all {total:,} matching jobs?", body, f"Delete {total:,} jobs"):
        return
    result = await _bulk(screen, "Delete", screen.link.api.delete_matching(criteria, expected=total))
    if result is not None:
        _report(screen, "Deleted", result)


async def _each(
    screen: DaemonScreen, jobs: Sequence[JobSummary], verb: str, call: Callable[[str], Awaitable[object]]
) -> None:
    done, refused = 0, []
    for job in jobs:
        try:
            await call(job.id)
            done += 1
        except RpcError as exc:
            refused.append(exc.message)
    message = f"{verb} {done:,} of {len(jobs):,} marked jobs."
    if refused:
        message += f"\nRefused {len(refused):,}: {refused[0]}"
    screen.notify(message, title=f"{verb} marked", severity="warning" if refused else "information", timeout=8)


async def retry_jobs(screen: DaemonScreen, jobs: Sequence[JobSummary]) -> None:
    """Retry the marked jobs that can be retried (one confirmation)."""
    chosen = [job for job in jobs if job.state in RETRYABLE]
    body = f"{len(chosen):,} of the {len(jobs):,} marked jobs can be retried; they are queued again."
    if chosen and await _confirm(screen, f"Retry {len(chosen):,} marked jobs?", body, f"Retry {len(chosen):,}"):
        await _each(screen, chosen, "Retried", screen.link.api.retry_job)


async def cancel_jobs(screen: DaemonScreen, jobs: Sequence[JobSummary]) -> None:
    """Cancel the marked jobs that have not ended (one confirmation)."""
    chosen = [job for job in jobs if job.state in CANCELABLE]
    body = f"{len(chosen):,} of the {len(jobs):,} marked jobs have not ended; they stop and end as canceled."
    if chosen and await _confirm(screen, f"Cancel {len(chosen):,} marked jobs?", body, f"Cancel {len(chosen):,}"):
        await _each(screen, chosen, "Canceled", screen.link.api.cancel_job)


async def delete_jobs(screen: DaemonScreen, jobs: Sequence[JobSummary]) -> None:
    """Delete the archives of the marked jobs that ended (retained ones are refused; one confirmation)."""
    chosen = [job for job in jobs if job.state in TERMINAL and not job.deleted]
    body = (f"The stored archives of {len(chosen):,} of the {len(jobs):,} marked jobs are deleted from storage "
            "(archives under retention are kept). The job records stay, as evidence.")  # fmt: skip
    if chosen and await _confirm(screen, f"Delete {len(chosen):,} marked jobs?", body, f"Delete {len(chosen):,}"):
        await _each(screen, chosen, "Deleted", screen.link.api.delete_job)
