"""Moodle backups (.mbz) in the archive: the raw evidence layer, which also holds students who left the course.

No core web service starts a backup (Moodle 4.5 and 5.0): archived brings the site's own. With the job setting
`backup_source = "latest_automated"` it lists the backups Moodle keeps (`core_files_get_files`: `backup/automated`
and `backup/course` of the course, `backup/activity` of the course module), takes the newest and downloads it
through `/webservice/pluginfile.php`, checking the ETag Moodle sends (the stored file's SHA-1) besides SHA-256.
With `"cli"` it runs `[backups] cli_command` (archived on the Moodle host, e.g. `admin/cli/backup.php`). The file
goes to `data/backups/`, its record to job.json. A required backup that is missing or older than the activity's
last change allows fails the activity stage, naming the fix.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archived.config import BackupsConfig
from archived.errors import FatalError, IntegrityError
from archived.interfaces.activity import LogLevel
from archived.jobs.settings import JobSettings
from archived.moodle.api import MoodleApi
from archived.moodle.errors import AccessDeniedError, MoodleFileNotFound, NoPermissionError
from archived.moodle.models import StoredFile

BACKUP_FOLDER = "backups"
# (context level, file area) of the backup areas archived looks in, all of component `backup`.
BACKUP_AREAS = (("course", "automated"), ("course", "course"), ("module", "activity"))
# What an operator must set on the Moodle side for `latest_automated` (docs/moodle-setup.md, "Backups").
FIX = (
    "Moodle keeps no backup archived may take: run automated backups into the course backup area (Site "
    "administration > Courses > Backups > Automated backup setup, 'Automated backup storage' = 'Course backup "
    "filearea' or both) or admin/cli/backup.php from cron, and give the service user's role "
    "moodle/backup:downloadfile and moodle/restore:viewautomatedfilearea (moodle/backup:backupcourse and "
    "moodle/backup:backupactivity for the course and activity backup areas); see docs/moodle-setup.md"
)

Log = Callable[[LogLevel, str], Awaitable[None]]


class BackupMissing(FatalError):
    """A required Moodle backup is missing, too old, or could not be made or downloaded."""

    code = "backup_missing"


@dataclass(frozen=True)
class BackupRequest:
    """What one job needs a backup of, and the time the backup must not predate by more than the setting allows."""

    job_id: str
    course_id: int
    cmid: int
    last_modified: int | None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def download_url(listed: StoredFile) -> str:
    """The URL to download a listed backup from: Moodle lists automated backups with an item id (`/0/`) that its
    pluginfile.php answers with 404; backup areas are served without one."""
    url = listed.url or ""
    return re.sub(rf"/backup/{re.escape(listed.filearea)}/0/", f"/backup/{listed.filearea}/", url, count=1)


class BackupFetcher:
    """Puts the Moodle backup a job's settings ask for into its payload; returns its job.json record."""

    def __init__(self, *, moodle: MoodleApi | None, config: BackupsConfig, log: Log) -> None:
        self.moodle = moodle
        self.config = config
        self.log = log

    async def fetch(self, settings: JobSettings, request: BackupRequest, payload: Path) -> dict[str, Any] | None:
        """The backup's record for job.json (`None` when the job takes none); raises `BackupMissing` when a
        required one cannot be had. Leftovers of an earlier run in `data/backups/` are removed first."""
        if settings.backup_source == "none":
            return None
        folder = payload / BACKUP_FOLDER
        await asyncio.to_thread(shutil.rmtree, folder, True)
        try:
            if settings.backup_source == "cli":
                record = await self._cli(request, folder)
            else:
                record = await self._latest(settings, request, folder)
        except BackupMissing as exc:
            if settings.backup_required:
                raise
            await asyncio.to_thread(shutil.rmtree, folder, True)
            await self.log(LogLevel.WARNING, f"archived WITHOUT a Moodle backup (backup_required is off): {exc}")
            return {"source": settings.backup_source, "required": False, "missing": str(exc)}
        record = {"source": settings.backup_source, "required": settings.backup_required, **record}
        await self.log(
            LogLevel.INFO, f"Moodle backup {record['file']}: {record['size']} bytes, sha256 {record['sha256']}"
        )
        return record

    # -- latest_automated ---------------------------------------------------------------------------------

    async def _listed(self, request: BackupRequest) -> tuple[list[StoredFile], list[str]]:
        """Every backup Moodle lists for the course and the module, and the areas it would not show."""
        if self.moodle is None:
            raise BackupMissing("no Moodle site is configured")
        found: list[StoredFile] = []
        refused: list[str] = []
        for level, area in BACKUP_AREAS:
            instance = request.course_id if level == "course" else request.cmid
            try:
                listing = await self.moodle.files(
                    -1, "backup", area, 0, "/", "", contextlevel=level, instanceid=instance
                )
            except (AccessDeniedError, NoPermissionError) as exc:
                refused.append(f"backup/{area} ({exc.errorcode or 'access denied'})")
                continue
            found += [f for f in listing.files if not f.isdir and f.filename.endswith(".mbz") and f.url]
        return found, refused

    async def _latest(self, settings: JobSettings, request: BackupRequest, folder: Path) -> dict[str, Any]:
        listed, refused = await self._listed(request)
        where = f"course {request.course_id} / course module {request.cmid}"
        if refused:
            await self.log(LogLevel.WARNING, f"Moodle refused to list {', '.join(refused)}")
        if not listed:
            raise BackupMissing(f"Moodle lists no backup of {where} to the service user. {FIX}")
        newest = max(listed, key=lambda f: (f.timecreated or f.timemodified or 0, f.filename))
        made = newest.timecreated or newest.timemodified or 0
        if request.last_modified is not None:
            oldest_allowed = request.last_modified - settings.backup_max_age_hours * 3600
            if made < oldest_allowed:
                raise BackupMissing(
                    f"the newest backup of {where} ({newest.filename}, made {_iso(made)}) is older than the "
                    f"activity's last change ({_iso(request.last_modified)}) by more than backup_max_age_hours "
                    f"({settings.backup_max_age_hours:g}): make a backup after the last change. {FIX}"
                )
        return await self._download(newest, folder, made)

    async def _download(self, listed: StoredFile, folder: Path, made: int) -> dict[str, Any]:
        assert self.moodle is not None
        name = _safe_name(listed.filename)
        client = self.moodle.client
        try:
            fetched = await client.download(download_url(listed), folder / name, max_bytes=self.config.max_bytes)
        except MoodleFileNotFound as exc:
            raise BackupMissing(
                f"Moodle lists backup {listed.filename} but will not hand it out ({exc}): the service user's role "
                "needs moodle/backup:downloadfile"
            ) from None
        etag = (fetched.etag or "").strip().removeprefix("W/").strip('"')
        if etag and etag != fetched.sha1:
            (folder / name).unlink(missing_ok=True)
            raise IntegrityError(
                f"backup {listed.filename}: the download's SHA-1 {fetched.sha1} differs from the ETag Moodle sent "
                f"({etag}); retry the job"
            )
        if not etag:
            await self.log(LogLevel.WARNING, f"backup {listed.filename}: Moodle sent no ETag; checked by size only")
        if listed.filesize is not None and listed.filesize != fetched.size:
            (folder / name).unlink(missing_ok=True)
            raise IntegrityError(
                f"backup {listed.filename}: {fetched.size} bytes downloaded, Moodle lists {listed.filesize}; "
                "retry the job"
            )
        return {
            "file": f"{BACKUP_FOLDER}/{name}",
            "moodle_area": f"backup/{listed.filearea}",
            "moodle_filename": listed.filename,
            "made_at": _iso(made),
            "size": fetched.size,
            "sha256": fetched.sha256,
            "sha1": fetched.sha1,
            "etag_verified": bool(etag),
        }

    # -- cli ----------------------------------------------------------------------------------------------

    async def _cli(self, request: BackupRequest, folder: Path) -> dict[str, Any]:
        command = self.config.cli_command
        if not command:
            raise BackupMissing("backup_source is cli but [backups] cli_command is not configured")
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        scratch = await asyncio.to_thread(
            tempfile.mkdtemp, prefix=f".backup-{request.job_id}-", dir=folder.parent.parent
        )
        try:
            made, started = await self._run_cli(command, request, scratch)
            name = _safe_name(made.name)
            await asyncio.to_thread(os.replace, made, folder / name)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        size, sha256, sha1 = await asyncio.to_thread(_digests, folder / name)
        return {
            "file": f"{BACKUP_FOLDER}/{name}",
            "moodle_area": None,
            "moodle_filename": made.name,
            "made_at": _iso(started),
            "size": size,
            "sha256": sha256,
            "sha1": sha1,
            "etag_verified": False,
        }

    async def _run_cli(self, command: list[str], request: BackupRequest, scratch: str) -> tuple[Path, float]:
        """Run the configured command; the .mbz it wrote into `scratch` and when it started."""
        values = {"courseid": str(request.course_id), "cmid": str(request.cmid), "destination": scratch}
        argv = [part.format_map(values) for part in command]
        started = time.time()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise BackupMissing(f"[backups] cli_command could not be started: {exc.strerror}") from None
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.config.cli_timeout_seconds)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise BackupMissing(
                f"[backups] cli_command did not finish within {self.config.cli_timeout_seconds:g} s"
            ) from None
        tail = " | ".join(output.decode("utf-8", "replace").strip().splitlines()[-3:])
        if process.returncode != 0:
            raise BackupMissing(f"[backups] cli_command failed (exit code {process.returncode}): {tail}")
        made = await asyncio.to_thread(_newest_mbz, Path(scratch))
        if made is None:
            raise BackupMissing(f"[backups] cli_command wrote no .mbz file into its {{destination}}: {tail}")
        return made, started


def _newest_mbz(folder: Path) -> Path | None:
    made = sorted(folder.glob("*.mbz"), key=lambda p: p.stat().st_mtime)
    return made[-1] if made else None


def _safe_name(name: str) -> str:
    """A backup's file name as it may stand in the payload (Moodle's own names pass unchanged)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return cleaned or "backup.mbz"


def _digests(path: Path) -> tuple[int, str, str]:
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
            sha256.update(chunk)
            sha1.update(chunk)
    return size, sha256.hexdigest(), sha1.hexdigest()
