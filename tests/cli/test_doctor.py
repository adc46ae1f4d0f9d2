"""`archived doctor` on this machine, and with the pieces it must notice missing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.support.daemon import write_config


def findings(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {f["name"]: f for f in json.loads(result.stdout)["findings"]}


def test_a_complete_installation_is_ready(tmp_path: Path) -> None:
    result = run("doctor", "--json", env={"ARCHIVED_CONFIG": str(write_config(tmp_path))})
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    assert set(found) == {"python", "weasyprint", "fonts", "node", "mathjax", "sample report", "configuration",
                          "state folder"}  # fmt: skip
    assert all(f["severity"] == "ok" for f in found.values()), found
    assert found["sample report"]["detail"].startswith("pdf/a-2u")


def test_missing_node_is_named_with_its_fix() -> None:
    result = run("doctor", "--no-sample", env={"ARCHIVED_NODE": "/nonexistent/node"})
    assert result.returncode == 1
    assert "✗ node: Node.js not found" in result.stdout and "fix: install Node.js 18 or newer" in result.stdout


def test_a_state_folder_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    config = write_config(tmp_path, **{"daemon.state_dir": str(blocker / "state")})
    result = run("doctor", "--no-sample", "--json", env={"ARCHIVED_CONFIG": str(config)})
    assert result.returncode == 1
    state = findings(result)["state folder"]
    assert state["severity"] == "error" and "[daemon] state_dir" in state["fix"]


def test_a_broken_configuration_is_named(tmp_path: Path) -> None:
    config = tmp_path / "archived.toml"
    config.write_text("[daemon]\nmax_running_jobs = 0\n")
    result = run("doctor", "--no-sample", "--json", "--config", str(config))
    assert result.returncode == 1
    assert "max_running_jobs" in findings(result)["configuration"]["detail"]
