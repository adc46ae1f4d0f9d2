"""Schedules through the real daemon and the `archived` command, reading the Moodle simulator over HTTP: a numeric
day of week refused, a schedule added and dry-run (no job), the daemon down over a cron time and the missed run made
once after the restart, its job created by the schedule, its record shown by `schedules runs`."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from archived.cli.exit_codes import ExitCode
from archived.simulator.simulator import MoodleSimulator
from tests.support.daemon import REPO, TESTS, DaemonProcess
from tests.support.simulator import moodle_overrides

pytestmark = pytest.mark.slow


def cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archived", "--socket", str(daemon.socket), *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "plugins"), str(REPO)]), "COLUMNS": "200"},
    )  # fmt: skip


def cli_json(daemon: DaemonProcess, *args: str) -> Any:
    done = cli(daemon, *args, "--json")
    assert done.returncode == ExitCode.OK, done.stderr
    return json.loads(done.stdout)


async def until_run(daemon: DaemonProcess, name: str, trigger: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    async with daemon.client() as client:
        while True:
            runs = (await client.call("schedules.runs", {"name": name}))["runs"]
            if runs and runs[0]["trigger"] == trigger:
                return dict(runs[0])
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"schedule {name} never ran ({trigger})")
            await asyncio.sleep(0.1)


async def test_schedules_through_the_daemon_and_the_cli(daemon_factory, tmp_path: Path) -> None:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim), **{"workers.render_processes": 1})

        refused = cli(daemon, "schedules", "add", "weekdays", "--cron", "0 2 * * 1-5")
        assert refused.returncode == ExitCode.REFUSED
        assert "ambiguous" in refused.stderr and "mon-fri" in refused.stderr

        added = cli(
            daemon, "schedules", "add", "nightly", "--cron", "0 2 * * mon-fri", "--tz", "Europe/Berlin",
            "--course", "2", "--type", "quiz", "--changed-only",
        )  # fmt: skip
        assert added.returncode == ExitCode.OK, added.stderr
        [listed] = cli_json(daemon, "schedules", "list")["schedules"]
        assert listed["rule"]["courses"] == [2] and listed["rule"]["changed_only"] is True
        assert listed["next_run_at"] is not None

        dry = cli_json(daemon, "schedules", "dry-run", "nightly")
        assert [(s["cmid"], s["job_id"]) for s in dry["selected"]] == [(2, None)]
        assert {s["cmid"]: s["reason"] for s in dry["skipped"]}[1] == "type_not_selected"
        async with daemon.client() as client:
            assert (await client.call("jobs.list"))["total"] == 0

        # The daemon is down over two days of cron times.
        assert daemon.terminate() == 0
        with sqlite3.connect(daemon.root / "state" / "archived.sqlite3") as db:
            db.execute("UPDATE schedules SET next_run_at = ? WHERE name = 'nightly'", (time.time() - 2 * 86400,))
        daemon.restart()
        run = await until_run(daemon, "nightly", "missed")
        assert run["trigger"] == "missed" and run["missed"] >= 1
        [selected] = run["selected"]
        assert selected["cmid"] == 2 and selected["job_id"]
        async with daemon.client() as client:
            job = (await client.call("jobs.get", {"job_id": selected["job_id"]}))["job"]
            assert job["initiator"]["kind"] == "schedule" and job["initiator"]["name"] == "nightly"
            await client.call("jobs.cancel", {"job_id": selected["job_id"]})
            runs = (await client.call("schedules.runs", {"name": "nightly"}))["runs"]
            assert [r["trigger"] for r in runs] == ["missed", "dry-run"]  # once, not once per missed day

        shown = cli(daemon, "schedules", "runs", "nightly", "--details")
        assert shown.returncode == ExitCode.OK, shown.stderr
        assert "(missed)" in shown.stdout and selected["job_id"] in shown.stdout

        # Options given to edit replace those parts of the rule; the rest stays.
        edited = cli_json(daemon, "schedules", "edit", "nightly", "--max-jobs", "3", "--no-changed-only")
        assert edited["rule"] == {**listed["rule"], "max_jobs": 3, "changed_only": False}
        assert cli_json(daemon, "schedules", "disable", "nightly")["next_run_at"] is None
        assert cli_json(daemon, "schedules", "enable", "nightly")["next_run_at"] is not None
        assert cli(daemon, "schedules", "remove", "nightly").returncode == ExitCode.OK
        assert cli_json(daemon, "schedules", "list")["schedules"] == []
        assert cli(daemon, "schedules", "run-now", "nightly").returncode == ExitCode.NOT_FOUND
        assert len(cli_json(daemon, "schedules", "runs", "nightly")["runs"]) == 2  # its runs stay readable


async def test_policy_report_through_the_daemon_and_the_cli(daemon_factory, tmp_path: Path) -> None:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        with sim.world.lock:
            sim.world.quizzes[1].timeclose = int(time.time() - 3 * 86400)  # course 2's exam closed three days ago
        rule = '\n[[policy.mandatory]]\ncategory = 3\ntype = "quiz"\nwithin_days = 2\n'
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim), **{"workers.render_processes": 1}, extra=rule)
        done = cli(daemon, "policy", "report")
        assert done.returncode == ExitCode.FAILURE, done.stderr
        assert "every quiz in category 3 archived within 2 days of closing" in done.stdout
        assert "Final exam Mathematics I" in done.stdout and "never" in done.stdout
        report = json.loads(cli(daemon, "policy", "report", "--json").stdout)
        [breach] = report["breaches"]
        assert (breach["course_id"], breach["cmid"]) == (2, 2)
