"""Student data stays with the daemon's user and group, whatever umask the daemon was started with."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state


async def test_nothing_the_daemon_creates_is_readable_by_others_even_with_umask_0(tmp_path: Path) -> None:
    """Before: outside systemd, an inherited umask of 0 or 022 made the store, work files and archives 0644/0666
    in 0755/0777 folders, readable by every local user."""
    process = DaemonProcess(write_config(tmp_path), tmp_path)
    process.umask = 0
    process.start()
    try:
        async with process.client() as client:
            job_id = await create_job(client, files=3, delay_seconds=0.3)
            await wait_for_state(client, job_id, {"activity_archiving"})
            await asyncio.sleep(0.5)  # a payload file or two written
            work = [tmp_path / "state" / "work", *sorted((tmp_path / "state" / "work").rglob("*"))]
            assert any(path.is_file() for path in work), "expected the job's work files while it runs"
            _assert_private(work)
            job = await wait_for_state(client, job_id, {"completed", "failed"})
            assert job["state"] == "completed"
        created = [tmp_path / "state", *sorted((tmp_path / "state").rglob("*")), tmp_path / "archive"]
        created += sorted((tmp_path / "archive").rglob("*"))
        assert any(path.suffix == ".zip" for path in created)
        assert any(path.name == "archived.sqlite3" for path in created)
        _assert_private(created)
    finally:
        process.kill()


def _assert_private(paths: list[Path]) -> None:
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue  # a temporary file that went away meanwhile
        if stat.S_ISSOCK(mode):
            continue  # the socket has its own configured mode (0660)
        assert mode & 0o007 == 0, f"{path} is {stat.filemode(mode)}: other users can read it"
