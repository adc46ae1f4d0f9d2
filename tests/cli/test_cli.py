"""The `archived` command against a real daemon: output, --json and the documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.daemon import REPO, TESTS


def run(*args: str, socket: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120):
    command = [sys.executable, "-m", "archived"]
    if socket is not None:
        command += ["--socket", str(socket)]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(TESTS / "plugins"), str(REPO)])
    environment.update(env or {})
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=timeout, env=environment)


def test_job_lifecycle_through_the_cli(daemon) -> None:
    created = run("jobs", "create", "--course", "2", "--activity", "7", "--driver", "slowtest",
                  "--set", "files=3", "--set", "flavour=cli", "--json", socket=daemon.socket)  # fmt: skip
    assert created.returncode == 0, created.stderr
    job_id = json.loads(created.stdout)["job"]["id"]
    watched = run("jobs", "watch", job_id, socket=daemon.socket)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "completed" in watched.stdout

    listing = json.loads(run("jobs", "list", "--json", socket=daemon.socket).stdout)
    assert listing["total"] == 1 and listing["jobs"][0]["state"] == "completed"
    shown = run("jobs", "show", job_id[:8], socket=daemon.socket)
    assert shown.returncode == 0 and "timeline" in shown.stdout and "local:" in shown.stdout
    detail = json.loads(run("jobs", "show", job_id, "--json", socket=daemon.socket).stdout)
    assert detail["job"]["settings"]["activity"]["flavour"] == "cli"
    logs = run("jobs", "logs", job_id, "--level", "info", socket=daemon.socket)
    assert "job ended: completed" in logs.stdout

    # The stored archive verifies with the offline command.
    location = detail["artifacts"][0]["locations"][0]["location"]
    archive = daemon.root / "archive" / location
    verified = run("verify", str(archive))
    assert verified.returncode == 0 and "OK" in verified.stdout
    report = json.loads(run("verify", str(archive), "--json").stdout)
    assert report["ok"] and report["payload_files"] == 5  # 3 files, index.json, job.json

    refused = run("jobs", "cancel", job_id, socket=daemon.socket)
    assert refused.returncode == 6 and "already ended" in refused.stderr
    retained = run("jobs", "delete", job_id, socket=daemon.socket)
    assert retained.returncode == 6 and "retained until" in retained.stderr
    deleted = run("jobs", "delete", job_id, "--force", socket=daemon.socket)
    assert deleted.returncode == 0 and not archive.exists()


def test_exit_codes_for_common_mistakes(daemon, tmp_path: Path) -> None:
    assert run("jobs", "show", "ffffffff", socket=daemon.socket).returncode == 4
    bad_setting = run("jobs", "create", "--course", "2", "--activity", "7", "--driver", "slowtest",
                      "--set", "files=lots", socket=daemon.socket)  # fmt: skip
    assert bad_setting.returncode == 6 and "setting files" in bad_setting.stderr
    usage = run("jobs", "create", "--course", "2", socket=daemon.socket)
    assert usage.returncode == 2
    unreachable = run("jobs", "list", socket=tmp_path / "nowhere.sock")
    assert unreachable.returncode == 3 and "is the daemon running" in unreachable.stderr


def test_permission_denied_exit_code(daemon_factory) -> None:
    daemon = daemon_factory(**{"access.operator_users": [], "access.allow_daemon_user": False})
    denied = run("jobs", "create", "--course", "2", "--activity", "7", "--driver", "slowtest", socket=daemon.socket)
    assert denied.returncode == 5 and "not an operator" in denied.stderr
    assert run("jobs", "list", socket=daemon.socket).returncode == 0


def test_storage_status_settings_and_status(daemon) -> None:
    storage = run("storage", "status", "--json", socket=daemon.socket)
    assert storage.returncode == 0, storage.stderr
    [target] = json.loads(storage.stdout)["targets"]
    assert target["name"] == "local" and target["probe_ok"] and target["free_bytes"] > 0
    settings = json.loads(run("settings", "slowtest", "--json", socket=daemon.socket).stdout)
    keys = {s["key"]: s for s in settings["settings"]}
    assert keys["retention_years"]["locked"] and "files" in keys
    status = json.loads(run("status", "--json", socket=daemon.socket).stdout)
    assert status["pid"] == daemon.process.pid and "slowtest" in status["drivers"]


def test_failing_storage_target_gives_exit_1(daemon_factory, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the storage folder should be")
    daemon = daemon_factory(**{"storage.local.path": str(blocker), "storage.local.create": False})
    result = run("storage", "status", socket=daemon.socket)
    assert result.returncode == 1 and "failing" in result.stdout


def test_verify_reports_defects(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as bag:
        bag.writestr("bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        bag.writestr("bag/data/x.txt", "hello")
    result = run("verify", str(archive))
    assert result.returncode == 1 and "DEFECTS FOUND" in result.stdout
    assert "manifest-sha256.txt: missing" in result.stdout


def test_daemon_refuses_a_bad_configuration(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[daemon]\nmax_running_jobs = 0\n")
    result = run("daemon", "--config", str(config))
    assert result.returncode == 2
    assert "daemon.max_running_jobs" in result.stderr


@pytest.mark.parametrize("command", [["--help"], ["jobs", "--help"], ["--version"]])
def test_help(command: list[str]) -> None:
    assert run(*command).returncode == 0
