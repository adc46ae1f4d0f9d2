"""Names from Moodle, archives and the daemon are printed literally: never read as markup, no control sequences.

A simulated Moodle site whose categories, courses and activities are named like markup (`Algebra [/b]`,
`[red]x[/red]`, `[bold`, `[link=file:///etc/passwd]x`) or carry terminal controls (`ESC[2J`, an OSC title,
the one-character CSI U+009B, U+202E, NUL) feeds a real daemon; every command that prints those names must
finish, show them (controls as visible escapes) and write no control character to the terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archived.archive.bag import build_bag_zip, payload_oxum
from archived.archive.payload import scan_payload
from archived.simulator.simulator import MoodleSimulator
from tests.support.daemon import REPO, TESTS, DaemonProcess, write_config
from tests.support.hostile_names import (
    ALGEBRA,
    ALGEBRA_SHORT,
    ALGEBRA_SHOWN,
    COURSE_2,
    COURSE_3,
    EXAM,
    EXAM_SHORT,
    EXAM_SHOWN,
    EXAMS_SHOWN,
    FINAL,
    FINAL_CMID,
    FINAL_SHOWN,
    LONG,
    MIDTERM,
    MIDTERM_CMID,
    RULES_SHOWN,
    SCIENCE,
    assert_terminal_safe,
    hostile_site,
)
from tests.support.simulator import moodle_overrides


def run(*args: str, socket: Path | None = None, checked: bool = True) -> subprocess.CompletedProcess[str]:
    """`archived …` in a child process, wide enough that no table cell wraps a name; `checked`: output checked
    for tracebacks and control characters."""
    command = [sys.executable, "-m", "archived"]
    if socket is not None:
        command += ["--socket", str(socket)]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(TESTS / "plugins"), str(REPO)])
    environment["COLUMNS"] = "4000"
    result = subprocess.run(command + list(args), capture_output=True, text=True, timeout=180, env=environment)
    if not checked:
        return result
    assert "Traceback" not in result.stderr, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    return result


@dataclass
class HostileSite:
    """The daemon on the renamed site, with a completed job of course 3 and an ended one of course 2."""

    daemon: DaemonProcess
    completed: dict[str, object]
    ended: dict[str, object]

    @property
    def socket(self) -> Path:
        """The daemon's socket."""
        return self.daemon.socket


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSite]:
    """One simulator and daemon for the module: the jobs take a few seconds to run."""
    root = tmp_path_factory.mktemp("hostile")
    with hostile_site(MoodleSimulator(seed=1, release="4.5")) as sim:
        daemon = DaemonProcess(write_config(root, **moodle_overrides(root, sim)), root)
        daemon.start()
        try:
            # Setting up, not testing yet: the tests check the output of each command.
            created = run("jobs", "create", "--course", str(COURSE_3), "--activity", str(MIDTERM_CMID),
                          "--wait", "--json", socket=daemon.socket, checked=False)  # fmt: skip
            completed = json.loads(created.stdout)
            assert completed["state"] == "completed", created.stdout
            # Course 2's names carry control characters; whatever the quiz job makes of them, it ends.
            started = run("jobs", "create", "--course", str(COURSE_2), "--activity", str(FINAL_CMID), "--json",
                          socket=daemon.socket, checked=False)  # fmt: skip
            job_id = json.loads(started.stdout)["job"]["id"]
            run("jobs", "cancel", job_id, socket=daemon.socket, checked=False)
            ended = json.loads(run("jobs", "watch", job_id, "--json", socket=daemon.socket, checked=False).stdout)[0]
            yield HostileSite(daemon, completed, ended)
        finally:
            daemon.kill()


def test_course_commands_print_moodle_names_literally(site: HostileSite) -> None:
    tree = run("courses", "tree", socket=site.socket)
    assert tree.returncode == 0, tree.stderr
    assert SCIENCE in tree.stdout and EXAMS_SHOWN in tree.stdout

    listing = run("courses", "list", socket=site.socket)
    assert listing.returncode == 0, listing.stderr
    for shown in (ALGEBRA_SHOWN, ALGEBRA_SHORT, EXAM_SHOWN, EXAM_SHORT, LONG, SCIENCE, EXAMS_SHOWN):
        assert shown in listing.stdout

    exam = run("courses", "show", str(COURSE_2), socket=site.socket)
    assert exam.returncode == 0, exam.stderr
    assert f"{EXAM_SHOWN} ({EXAM_SHORT}, id 2) in {EXAMS_SHOWN}" in exam.stdout
    for shown in (FINAL_SHOWN, RULES_SHOWN, LONG):
        assert shown in exam.stdout

    algebra = run("courses", "show", str(COURSE_3), socket=site.socket)
    assert algebra.returncode == 0, algebra.stderr
    assert f"{ALGEBRA_SHOWN} ({ALGEBRA_SHORT}, id 3) in {SCIENCE}" in algebra.stdout
    assert MIDTERM in algebra.stdout and "archived 20" in algebra.stdout  # the badge of the completed job


def test_json_output_keeps_the_names_exact_and_the_terminal_safe(site: HostileSite) -> None:
    courses = json.loads(run("courses", "list", "--json", socket=site.socket).stdout)["courses"]
    names = {course["id"]: (course["fullname"], course["shortname"]) for course in courses}
    assert names[COURSE_2] == (EXAM, EXAM_SHORT) and names[COURSE_3] == (ALGEBRA, ALGEBRA_SHORT)
    detail = json.loads(run("jobs", "show", str(site.ended["id"]), "--json", socket=site.socket).stdout)
    assert (detail["job"]["course_name"], detail["job"]["activity_name"]) == (EXAM, FINAL)


def test_job_commands_print_moodle_names_literally(site: HostileSite) -> None:
    listing = run("jobs", "list", socket=site.socket)
    assert listing.returncode == 0, listing.stderr
    # The completed job's names are the ones its driver read (a quiz report may have replaced the C1 character).
    for shown in (MIDTERM, "Algebra [/b] ", FINAL_SHOWN, EXAM_SHOWN):
        assert shown in listing.stdout, listing.stdout

    completed = run("jobs", "show", str(site.completed["id"]), socket=site.socket)
    assert completed.returncode == 0, completed.stderr
    assert f"activity  {MIDTERM} (cmid 4" in completed.stdout
    assert "course    Algebra [/b] " in completed.stdout
    ended = run("jobs", "show", str(site.ended["id"]), socket=site.socket)
    assert ended.returncode == 0, ended.stderr
    assert f"activity  {FINAL_SHOWN} (cmid 2" in ended.stdout and f"course    {EXAM_SHOWN} (id 2)" in ended.stdout

    logs = run("jobs", "logs", str(site.completed["id"]), socket=site.socket)
    assert logs.returncode == 0, logs.stderr
    assert f"({MIDTERM}) to archive" in logs.stdout and "job ended: completed" in logs.stdout
    entries = json.loads(run("jobs", "logs", str(site.completed["id"]), "--json", socket=site.socket).stdout)
    assert any(MIDTERM in entry["message"] for entry in entries["entries"])


def test_verify_prints_the_bag_info_literally(site: HostileSite, tmp_path: Path) -> None:
    detail = json.loads(run("jobs", "show", str(site.completed["id"]), "--json", socket=site.socket).stdout)
    archive = site.daemon.root / "archive" / detail["artifacts"][0]["locations"][0]["location"]
    verified = run("verify", str(archive))
    assert verified.returncode == 0 and ": OK" in verified.stdout, verified.stdout + verified.stderr
    assert "Course: Algebra [/b] " in verified.stdout and f"Activity: {MIDTERM}" in verified.stdout

    # A valid bag named like markup and with a bidi override.
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "job.json").write_text("{}")
    files = scan_payload(payload)
    course = f"{ALGEBRA_SHORT} [bold a\u202eb"
    bag = tmp_path / "markup.zip"
    build_bag_zip(payload_dir=payload, payload=files, dest=bag, bag_name="markup",
                  bag_info=[("Course", course), ("Activity", MIDTERM)], readme="test bag\n")  # fmt: skip
    verified = run("verify", str(bag))
    assert verified.returncode == 0 and ": OK" in verified.stdout, verified.stdout + verified.stderr
    assert f"Course: {ALGEBRA_SHORT} [bold a\\u202eb" in verified.stdout and f"Activity: {MIDTERM}" in verified.stdout
    assert json.loads(run("verify", str(bag), "--json").stdout)["bag_info"]["Activity"] == MIDTERM

    # bag-info.txt written by someone else, with terminal controls in it (whatever the verdict on that).
    bag_info = f"Course: {EXAM}\nActivity: {FINAL}\nPayload-Oxum: {payload_oxum(files)}\n".encode()
    bag = tmp_path / "controls.zip"
    build_bag_zip(payload_dir=payload, payload=files, dest=bag, bag_name="controls", bag_info=[],
                  readme="test bag\n", extra_tag_files={"bag-info.txt": bag_info})  # fmt: skip
    verified = run("verify", str(bag))
    assert verified.returncode in (0, 1) and "controls.zip: " in verified.stdout, verified.stderr
    assert f"Course: {EXAM_SHOWN}" in verified.stdout and f"Activity: {FINAL_SHOWN}" in verified.stdout


def test_the_daemons_messages_print_literally(daemon_factory) -> None:
    daemon = daemon_factory(**{"access.operator_users": [], "access.allow_daemon_user": False})
    denied = run("jobs", "create", "--course", "2", "--activity", "7", "--driver", "slowtest", socket=daemon.socket)
    assert denied.returncode == 5 and "(see [access] in the daemon's configuration)" in denied.stderr
    unknown = run("settings", "[/b] [red]x[/red] \x1b[2J", socket=daemon.socket)
    assert unknown.returncode == 6
    assert "unknown activity driver '[/b] [red]x[/red] \\x1b[2J'" in unknown.stderr


def test_a_failed_jobs_archive_shows_as_built_not_stored(daemon_factory, tmp_path: Path) -> None:
    outage = tmp_path / "outage"
    outage.touch()
    daemon = daemon_factory(**{"storage.local.driver": "slowlocal", "storage.local.fail_file": str(outage)})
    failed = run("jobs", "create", "--course", "2", "--activity", "7", "--driver", "slowtest", "--set", "files=2",
                 "--wait", "--json", socket=daemon.socket)  # fmt: skip
    job = json.loads(failed.stdout)
    assert failed.returncode == 1 and job["state"] == "failed", failed.stdout

    shown = run("jobs", "show", job["id"], socket=daemon.socket)
    assert shown.returncode == 0, shown.stderr
    archives = shown.stdout.split("\narchives\n", 1)[1]
    assert "built, not stored" in archives
    assert f"before the job ended failed; `archived jobs retry {job['id'][:8]}` stores it" in archives
    assert "retain until" not in archives  # nothing is retained: nothing was stored
