"""Category presets through the real daemon, reading the Moodle simulator over HTTP: a job in a subcategory's course
gets its categories' values and locks (a request to change a locked one is refused and says whose lock it is), a
schedule's jobs get them too, `settings.describe` shows them for a course, every job records where its values came
from, and a course whose category cannot be read gets no job instead of the site's presets."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archived.cli.exit_codes import ExitCode
from archived.protocol.errors import ErrorCode, RpcError
from archived.simulator.simulator import MoodleSimulator
from tests.support.daemon import REPO, TESTS, DaemonProcess, write_config
from tests.support.simulator import moodle_overrides

pytestmark = pytest.mark.slow

# The seeded site: category 2 (Faculty of Science) holds course 3 and subcategory 3 (Exams, path /2/3), which holds
# courses 2 and 4; course 2's exam quiz is cmid 2.
PRESETS = """
[presets.job]
locked = []

[category_presets.2.job]
retention_years = 5

[category_presets.3.job]
retention_years = 10
locked = ["retention_years"]

[category_presets.2.slowtest]
flavour = "faculty"
locked = ["flavour"]

[category_presets.3.quiz]
section_history = false
locked = ["section_history"]
"""


def cli(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archived", "--socket", str(daemon.socket), *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "plugins"), str(REPO)]), "COLUMNS": "200"},
    )  # fmt: skip


def by_key(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in described["settings"]}


async def until_run(daemon: DaemonProcess, name: str) -> dict[str, Any]:
    async with daemon.client() as client:
        for _ in range(1200):
            runs = (await client.call("schedules.runs", {"name": name}))["runs"]
            if runs:
                return dict(runs[0])
            await asyncio.sleep(0.1)
    raise TimeoutError(f"schedule {name} never ran")


async def test_category_presets_through_the_daemon(daemon_factory, tmp_path: Path) -> None:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        daemon = daemon_factory(
            **moodle_overrides(tmp_path, sim), **{"workers.render_processes": 1, "moodle.retries": 0}, extra=PRESETS
        )
        async with daemon.client() as client:
            # settings.describe: the site's presets without a course, its categories' with one.
            site = await client.call("settings.describe", {"driver": "slowtest"})
            assert site["presets"] == ["site"] and not by_key(site)["retention_years"]["locked"]
            assert by_key(site)["retention_years"]["value"] == 3
            exams = await client.call("settings.describe", {"driver": "slowtest", "course_id": 4})
            assert exams["presets"] == ["site", "category 2", "category 3"] and exams["category_id"] == 3
            retention, flavour = by_key(exams)["retention_years"], by_key(exams)["flavour"]
            assert (retention["value"], retention["locked"], retention["locked_by"]) == (10, True, "category 3")
            assert (flavour["value"], flavour["locked"], flavour["locked_by"]) == ("faculty", True, "category 2")

            # A job in course 4 (category 3): the locked values hold whatever the request says, and the answer says
            # whose lock refused it.
            created = await client.call(
                "jobs.create",
                {"course_id": 4, "cmid": 2, "driver": "slowtest",
                 "settings": {"retention_years": 2, "flavour": "mine", "files": 1}},
            )  # fmt: skip
            assert sorted(created["forced"]) == ["flavour", "retention_years"]
            assert created["locked_by"] == {"retention_years": "category 3", "flavour": "category 2"}
            job = (await client.call("jobs.get", {"job_id": created["job"]["id"]}))["job"]
            assert job["settings"]["job"]["retention_years"] == 10
            assert job["settings"]["activity"]["flavour"] == "faculty" and job["settings"]["activity"]["files"] == 1
            presets = job["settings"]["presets"]
            assert presets["category"] == {"id": 3, "path": [2, 3]}
            assert presets["applied"] == ["site", "category 2", "category 3"]
            assert presets["sources"]["job"]["retention_years"] == "category 3"
            assert presets["sources"]["activity"]["files"] == "request"
            assert presets["locked"]["activity"] == {"flavour": "category 2"}
            log = (await client.call("jobs.logs", {"job_id": job["id"], "limit": 50}))["entries"]
            messages = " | ".join(entry["message"] for entry in log)
            assert "retention_years is locked by the preset of category 3" in messages
            assert "presets applied: site, category 2, category 3" in messages

            # Course 3 is in category 2 only: its value, unlocked, so a request may change it.
            parent = await client.call("jobs.create", {"course_id": 3, "cmid": 4, "driver": "slowtest"})
            parent_job = (await client.call("jobs.get", {"job_id": parent["job"]["id"]}))["job"]
            assert parent_job["settings"]["job"]["retention_years"] == 5
            assert parent_job["settings"]["presets"]["sources"]["job"]["retention_years"] == "category 2"
            chosen = await client.call(
                "jobs.create", {"course_id": 3, "cmid": 4, "driver": "slowtest", "settings": {"retention_years": 7}}
            )
            assert chosen["forced"] == []

            # A course Moodle does not have: refused, not given the site's presets.
            with pytest.raises(RpcError) as unknown:
                await client.call("jobs.create", {"course_id": 99, "cmid": 1, "driver": "slowtest"})
            assert unknown.value.code == ErrorCode.NOT_FOUND
            assert "category preset" in unknown.value.message and "course 99" in unknown.value.message

        # The CLI says whose lock it was.
        done = cli(daemon, "jobs", "create", "--course", "4", "--activity", "2", "--driver", "slowtest",
                   "--set", "retention_years=1")  # fmt: skip
        assert done.returncode == ExitCode.OK, done.stderr
        assert "setting retention_years is locked by the preset of category 3" in done.stdout
        job_shown = cli(daemon, "jobs", "show", created["job"]["id"])
        assert job_shown.returncode == ExitCode.OK, job_shown.stderr
        assert "presets   site, category 2, category 3" in job_shown.stdout
        shown = cli(daemon, "settings", "slowtest", "--course", "4")
        assert shown.returncode == ExitCode.OK, shown.stderr
        assert "presets site, category 2, category 3" in shown.stdout and "category 3" in shown.stdout

        # A schedule's job for course 2 (category 3) gets the categories' presets too.
        added = cli(daemon, "schedules", "add", "exams", "--cron", "0 2 * * mon-fri", "--course", "2", "--type", "quiz")
        assert added.returncode == ExitCode.OK, added.stderr
        assert cli(daemon, "schedules", "run-now", "exams").returncode == ExitCode.OK
        run = await until_run(daemon, "exams")
        [selected] = run["selected"]
        assert selected["job_id"], run
        async with daemon.client() as client:
            scheduled = (await client.call("jobs.get", {"job_id": selected["job_id"]}))["job"]
            await client.call("jobs.cancel", {"job_id": scheduled["id"]})
        assert scheduled["initiator"] == {**scheduled["initiator"], "kind": "schedule", "name": "exams"}
        assert scheduled["settings"]["job"]["retention_years"] == 10
        assert scheduled["settings"]["activity"]["section_history"] is False
        assert scheduled["settings"]["presets"]["locked"]["activity"] == {"section_history": "category 3"}

        # Moodle failing: a course the overview does not know cannot be placed, so no job is created.
        sim.faults.fail(503, function="core_course_get_courses_by_field", times=100)
        async with daemon.client() as client:
            with pytest.raises(RpcError) as unreachable:
                await client.call("jobs.create", {"course_id": 98, "cmid": 1, "driver": "slowtest"})
        assert unreachable.value.code == ErrorCode.UPSTREAM_ERROR
        assert "course 98's category could not be read from Moodle" in unreachable.value.message
        assert "no job is created with the site's presets" in unreachable.value.message


async def test_a_category_preset_that_changes_a_site_lock_stops_the_daemon(tmp_path: Path) -> None:
    with MoodleSimulator(seed=1, release="4.5") as sim:
        config = write_config(tmp_path, **moodle_overrides(tmp_path, sim), extra=PRESETS.replace("locked = []\n", ""))
        done = subprocess.run(
            [sys.executable, "-m", "archived", "daemon", "--config", str(config)],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "plugins"), str(REPO)])},
        )  # fmt: skip
    assert done.returncode != 0
    assert "category_presets.2.job.retention_years: [presets.job] locks retention_years by default" in done.stderr
    assert "Traceback" not in done.stderr
