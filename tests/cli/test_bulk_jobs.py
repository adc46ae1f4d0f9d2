"""`archived jobs retry|cancel|delete` with a filter, and `archived jobs list` with its filters, against a real
daemon: the count is shown and confirmed (on a terminal, or with --yes), refused without a terminal to ask on, and
the daemon's counts and skips are printed."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from archived.cli.moments import moment
from tests.cli.test_cli import run
from tests.support.daemon import REPO, TESTS
from tests.support.jobs import TERMINAL, create_job, wait_for_state


async def failed_and_completed(daemon, *, failed: int, completed: int) -> tuple[list[str], list[str]]:
    async with daemon.client() as client:
        bad = [await create_job(client, cmid=8, files=1, fatal=True) for _ in range(failed)]
        good = [await create_job(client, cmid=9, files=1) for _ in range(completed)]
        for job_id in bad + good:
            await wait_for_state(client, job_id, TERMINAL)
    return bad, good


def states(daemon, job_ids: list[str]) -> list[str]:
    listing = json.loads(run("jobs", "list", "--all", "--json", "--limit", "1000", socket=daemon.socket).stdout)
    by_id = {job["id"]: job["state"] for job in listing["jobs"]}
    return [by_id[job_id] for job_id in job_ids]


def run_on_terminal(*args: str, socket: Path, answer: str) -> subprocess.CompletedProcess[str]:
    """The command with a terminal as stdin, on which `answer` is typed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS / "plugins"), str(REPO)]))
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "archived", "--socket", str(socket), *args],
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        os.write(controller, answer.encode() + b"\n")
        out, err = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


async def test_retry_by_filter_confirms_the_count(daemon) -> None:
    failed, completed = await failed_and_completed(daemon, failed=2, completed=1)

    unasked = run("jobs", "retry", "--state", "failed", socket=daemon.socket)
    assert unasked.returncode == 2
    assert "2 job(s) match state failed" in unasked.stdout
    assert "stdin is not a terminal" in unasked.stderr and "--yes" in unasked.stderr
    declined = run_on_terminal("jobs", "retry", "--state", "failed", socket=daemon.socket, answer="n")
    assert declined.returncode == 1 and "retry all 2? [y/N]" in declined.stdout and "nothing done" in declined.stdout
    assert states(daemon, failed) == ["failed", "failed"]

    confirmed = run_on_terminal("jobs", "retry", "--activity", "8", socket=daemon.socket, answer="y")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "retried 2 of 2 matching job(s)" in confirmed.stdout
    async with daemon.client() as client:
        for job_id in failed:
            await wait_for_state(client, job_id, {"failed"})
    [code] = {job["error_code"] for job in json.loads(run("jobs", "list", "--json", socket=daemon.socket).stdout)[
        "jobs"] if job["id"] in failed}  # fmt: skip

    answer = run("jobs", "retry", "--error", code, "--since", "1h", "--yes", "--json", socket=daemon.socket)
    assert answer.returncode == 0, answer.stderr
    result = json.loads(answer.stdout)
    assert result["matched"] == 2 and sorted(result["job_ids"]) == sorted(failed)
    assert "2 job(s) match error" in answer.stderr  # messages stay off stdout with --json

    skipped = run("jobs", "retry", "--search", completed[0][:8], "--yes", socket=daemon.socket)
    assert skipped.returncode == 0
    assert "retried 0 of 1 matching job(s)" in skipped.stdout
    assert "skipped 1: not failed, canceled or timed out (completed)" in skipped.stdout
    nothing = run("jobs", "retry", "--state", "timed_out", "--yes", socket=daemon.socket)
    assert nothing.returncode == 0 and "no job matches state timed_out; nothing to retry" in nothing.stdout


async def test_delete_and_cancel_by_filter(daemon) -> None:
    await failed_and_completed(daemon, failed=0, completed=2)
    kept = run("jobs", "delete", "--state", "completed", "--yes", socket=daemon.socket)
    assert kept.returncode == 0 and "deleted the archives of 0 of 2 matching job(s)" in kept.stdout
    assert "skipped 2: retained until" in kept.stdout
    forced = run("jobs", "delete", "--state", "completed", "--force", "--yes", socket=daemon.socket)
    assert forced.returncode == 0 and "removed 2 stored copies" in forced.stdout
    assert run("jobs", "list", "--json", socket=daemon.socket).stdout.count('"id"') == 0

    async with daemon.client() as client:
        slow = await create_job(client, cmid=11, files=50, delay_seconds=0.5)
        canceled = run("jobs", "cancel", "--activity", "11", "--yes", socket=daemon.socket)
        assert canceled.returncode == 0 and "canceled 1 of 1 matching job(s)" in canceled.stdout
        assert (await wait_for_state(client, slow, TERMINAL))["state"] == "canceled"


async def test_more_matches_than_confirmed_is_refused(daemon) -> None:
    """A job that fails while the operator reads the count is not retried unseen: the daemon refuses, exit 6."""
    failed, _ = await failed_and_completed(daemon, failed=1, completed=0)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS / "plugins"), str(REPO)]))
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "archived", "--socket", str(daemon.socket), "jobs", "retry", "--state", "failed"],
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert process.stdout is not None
        shown = ""
        while "[y/N]" not in shown:  # the count is shown and the question asked
            chunk = await asyncio.to_thread(process.stdout.read, 1)
            assert chunk, shown
            shown += chunk
        assert "1 job(s) match state failed" in shown
        another, _ = await failed_and_completed(daemon, failed=1, completed=0)
        os.write(controller, b"y\n")
        out, err = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    assert process.returncode == 6, out + err
    assert "now matches 2 jobs, more than the 1 you were shown; nothing was done" in err
    assert states(daemon, failed + another) == ["failed", "failed"]


def test_a_job_id_or_a_filter_is_needed_not_both(daemon) -> None:
    neither = run("jobs", "retry", socket=daemon.socket)
    assert neither.returncode == 2 and "give a job id, or a filter" in neither.stderr
    both = run("jobs", "cancel", "abcd1234", "--state", "failed", "--yes", socket=daemon.socket)
    assert both.returncode == 2 and "not both" in both.stderr
    bad_time = run("jobs", "list", "--since", "yesterday-ish", socket=daemon.socket)
    assert bad_time.returncode == 2 and "expected an age such as 30m" in bad_time.stderr


async def test_bulk_actions_need_an_operator(daemon_factory) -> None:
    operators = daemon_factory()
    failed, _ = await failed_and_completed(operators, failed=1, completed=0)
    assert operators.terminate() == 0
    readers = daemon_factory(**{"access.operator_users": [], "access.allow_daemon_user": False})  # the same store
    for action in ("retry", "delete", "cancel"):
        denied = run("jobs", action, "--activity", "8", "--yes", socket=readers.socket)
        assert denied.returncode == 5 and "not an operator" in denied.stderr
    assert states(readers, failed) == ["failed"]


async def test_list_filters_search_and_sort(daemon) -> None:
    failed, completed = await failed_and_completed(daemon, failed=1, completed=2)
    listed = json.loads(run("jobs", "list", "--state", "failed", "--json", socket=daemon.socket).stdout)
    assert [job["id"] for job in listed["jobs"]] == failed and listed["total"] == 1
    oldest = json.loads(run("jobs", "list", "--sort", "created", "--ascending", "--json", socket=daemon.socket).stdout)
    assert [job["id"] for job in oldest["jobs"]] == failed + completed
    assert json.loads(run("jobs", "list", "--course", "2", "--activity", "9", "--json", socket=daemon.socket).stdout)[
        "total"] == 2  # fmt: skip
    future = json.loads(run("jobs", "list", "--since", "2999-01-01", "--json", socket=daemon.socket).stdout)
    assert future["total"] == 0
    past = json.loads(run("jobs", "list", "--until", "1h", "--json", socket=daemon.socket).stdout)
    assert past["total"] == 0
    table = run("jobs", "list", "--search", failed[0][:6], socket=daemon.socket)
    assert table.returncode == 0 and failed[0][:8] in table.stdout and "1 of 1 job(s)" in table.stdout


def test_moments_are_ages_or_dates() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert moment("2h", now=now) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert moment("3d", now=now) == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert moment("1w", now=now) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert moment("30m", now=now) == datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
    assert moment("2026-12-01T08:00+01:00") == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert moment("2026-12-01").tzinfo is UTC
