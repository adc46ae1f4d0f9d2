"""The spool of pending copies: the built ZIP of a job whose optional target missed its copy, kept (a hard link, so
no extra space while the work folder still holds it) after the job's cleanup removed its work folder, until every
copy of it exists or the job is deleted.

Kept rather than read back from another target because the bytes are right here and already verified, a store call
needs a local file anyway, and the other copies may sit on a slow or costly tier (or there may be none: a job whose
only other target is the local disk). When the spooled file is gone or damaged, the catch-up still gets a copy from
a target that holds one (`archived.jobs.archive_retrieval`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from archived.durable import fsync_dir

ORPHAN_AGE_SECONDS = 3600.0  # a younger folder may belong to a store stage that has not recorded its copies yet


class CopySpool:
    """One folder per job (`<root>/<job id>/<archive name>`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, job_id: str, name: str) -> Path:
        """Where the job's archive `name` is kept."""
        return self.root / job_id / name

    def keep(self, job_id: str, name: str, source: Path) -> Path:
        """Keep `source` as the job's archive `name` (blocking: run in a thread)."""
        dest = self.path(job_id, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            if os.path.samefile(dest, source):
                return dest
            dest.unlink()
        try:
            os.link(source, dest)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            partial = dest.with_name(f".{name}.part")
            shutil.copyfile(source, partial)
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, dest)
        fsync_dir(dest.parent)
        return dest

    def release(self, job_id: str) -> None:
        """Forget what was kept for a job (blocking)."""
        shutil.rmtree(self.root / job_id, ignore_errors=True)

    def sweep(self, keep: Iterable[str], *, now: float | None = None) -> list[str]:
        """Remove the folders of jobs without pending copies (left by a daemon stopped between keeping a file and
        recording its copy), once they are an hour old; returns the job ids removed (blocking)."""
        now = time.time() if now is None else now
        wanted = set(keep)
        removed = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.root):
                if entry.name in wanted or not entry.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime > ORPHAN_AGE_SECONDS:
                        shutil.rmtree(entry.path, ignore_errors=True)
                        removed.append(entry.name)
        return removed
