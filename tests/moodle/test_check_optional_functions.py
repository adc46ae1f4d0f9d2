"""`archived moodle check` lists the optional assignment functions, present and missing, with what each adds;
run as an operator runs it, against the Moodle simulator over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archived.moodle.check import OPTIONAL_FOR_ASSIGNMENTS
from archived.simulator.simulator import MoodleSimulator
from tests.support.daemon import write_config
from tests.support.simulator import moodle_overrides


@pytest.fixture(scope="module")
def simulator():
    with MoodleSimulator() as sim:
        yield sim


def check(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "archived", "moodle", "check", "--config", str(config), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "250"})


def test_moodle_check_names_the_optional_assignment_functions(simulator, tmp_path) -> None:
    config = write_config(tmp_path, **moodle_overrides(tmp_path, simulator))
    functions = simulator.world.service.functions
    functions.append("mod_assign_get_user_flags")
    try:
        done = check(config)
        answer = json.loads(check(config, "--json").stdout)
    finally:
        functions.remove("mod_assign_get_user_flags")
    # Optional functions that are missing do not make the site unready.
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"Assignments:    1 of {len(OPTIONAL_FOR_ASSIGNMENTS)} optional functions present" in lines
    present = next(line for line in lines if "mod_assign_get_user_flags:" in line)
    assert present.split()[0] == "present" and "extensions" in present
    missing = ["mod_assign_get_user_mappings", "gradereport_user_get_grade_items", "core_grading_get_definitions",
               "core_grading_get_gradingform_instances", "core_comment_get_comments"]  # fmt: skip
    for name in missing:
        line = next(line for line in lines if f"{name}:" in line)
        assert line.split()[0] == "missing" and OPTIONAL_FOR_ASSIGNMENTS[name] in line
    assert answer["optional_present"] == ["mod_assign_get_user_flags"]
    assert answer["optional_missing"] == missing
    assert not any(p["code"].startswith("function") for p in answer["problems"])
