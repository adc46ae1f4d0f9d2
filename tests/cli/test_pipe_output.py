"""Tables printed to a pipe or a file show every value in full: what reads them there (`grep`, `less`, a script)
has no window to fit, so nothing is cut with "…" or wrapped to a width (`--json` stays the machine interface)."""

from __future__ import annotations

import json

from tests.cli.test_cli import run
from tests.support.jobs import create_job, wait_for_state

COURSE = "Mathematics for Engineers II, resit examination of the winter term 2026/27 (Prof. Dr. Wiesenthal)"
NARROW = {"COLUMNS": "60"}  # what a narrow terminal's shell may export; stdout is a pipe here


async def test_job_and_settings_tables_in_a_pipe_are_not_cut(daemon) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=1, course_name=COURSE)
        await wait_for_state(client, job_id, {"completed"})

    listing = run("jobs", "list", socket=daemon.socket, env=NARROW)
    assert listing.returncode == 0, listing.stderr
    [row] = [line for line in listing.stdout.splitlines() if line.strip().startswith(job_id[:8])]
    assert COURSE in row and "completed" in row and "Test activity 7" in row and "…" not in listing.stdout

    settings = run("settings", "slowtest", socket=daemon.socket, env=NARROW)
    described = json.loads(run("settings", "slowtest", "--json", socket=daemon.socket).stdout)["settings"]
    lines = settings.stdout.splitlines()
    for setting in described:
        assert any(setting["key"] in line and setting["description"] in line for line in lines), setting["key"]
    assert "…" not in settings.stdout


def test_storage_table_in_a_pipe_keeps_the_whole_message(daemon_factory, tmp_path) -> None:
    blocker = tmp_path / "a-file-where-the-storage-folder-of-the-nightly-archive-should-be"
    blocker.write_text("not a folder")
    daemon = daemon_factory(**{"storage.local.path": str(blocker), "storage.local.create": False})
    shown = run("storage", "status", socket=daemon.socket, env=NARROW)
    [target] = json.loads(run("storage", "status", "--json", socket=daemon.socket).stdout)["targets"]
    assert target["message"] and str(blocker) in target["message"]
    assert any(target["message"] in line and "failing" in line for line in shown.stdout.splitlines())
