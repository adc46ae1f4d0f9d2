"""`archived demo --s3`: the demo stores its archive on a local S3 server with Object Lock too (moto, a test
dependency: the tests have it), and both copies are verified."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.daemon import REPO

pytestmark = pytest.mark.slow


def test_the_demo_stores_on_worm_storage_too(tmp_path: Path) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "archived", "demo", "--s3", "--json", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stdout + answer.stderr
    result = json.loads(answer.stdout)
    assert result["ok"] and result["job"]["state"] == "completed"
    copies = {copy["target"]: copy for copy in result["copies"]}
    assert sorted(copies) == ["local", "worm"]
    assert copies["worm"]["location"].startswith("demo/archive-")
    assert copies["worm"]["sha256"] == copies["local"]["sha256"]
    config = (tmp_path / "demo" / "archived.toml").read_text()
    assert 'lock_mode = "COMPLIANCE"' in config and "secret" not in config  # credentials live in their own file
    assert (tmp_path / "demo" / "s3-credentials").stat().st_mode & 0o077 == 0
    assert "GET /" not in answer.stderr  # moto's request log stays quiet
