"""`archived demo` archives an assignment after the quiz, so a newcomer sees one archived and verified."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.daemon import REPO

pytestmark = pytest.mark.slow


def test_the_demo_archives_the_assignment_too(tmp_path: Path) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "archived", "demo", "--json", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stdout + answer.stderr
    result = json.loads(answer.stdout)
    assignment = result["assignment"]
    assert result["ok"] and assignment["job"]["state"] == "completed" and assignment["verify"]["ok"]
    assert assignment["job"]["driver"] == "assign"
    with zipfile.ZipFile(assignment["archive"]) as bag:
        names = bag.namelist()
    assert any(name.endswith("/data/submissions.csv") for name in names)
    assert any(name.endswith("/data/description/description.pdf") for name in names)
