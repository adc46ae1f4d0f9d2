"""The three processing stages of a job: activity archiving, post-processing (the archive), store.

Each stage reads what the previous ones checkpointed, does its work, and returns its own checkpoint; the engine
writes that checkpoint in the same transaction as the transition to the next stage.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archived import __version__
from archived.archive.bag import build_bag_zip, tag_files_for
from archived.archive.names import render_name, time_variables
from archived.archive.payload import PayloadFile, scan_payload
from archived.archive.readme import archive_readme
from archived.archive.timestamps import (
    STAMPED_FILE,
    Timestamp,
    TimestampClient,
    TimestampInvalid,
    TsaUnavailable,
    timestamp_files,
)
from archived.archive.verify import verify_archive
from archived.config import Config
from archived.durable import sha256_of_file, write_atomic
from archived.errors import ArchivedError, FatalError, IntegrityError
from archived.interfaces.activity import ActivityDriver, ActivityResult, LogLevel
from archived.jobs.backups import BackupFetcher, BackupRequest
from archived.jobs.context import PARTIAL_CHECKPOINT, StageContext
from archived.jobs.copy_catchup import CopyCatchUp
from archived.jobs.copy_spool import CopySpool
from archived.jobs.copy_writer import write_copy
from archived.jobs.operator_files import OperatorFiles
from archived.jobs.recorder import JobRecorder
from archived.jobs.results import result_from_dict, result_to_dict
from archived.jobs.settings import JobSettings
from archived.protocol.events import StorageWriteCreated, StorageWriteFailed
from archived.protocol.states import JobState
from archived.storable_text import storable_text
from archived.store.jobs import JobStore
from archived.store.records import JobRecord
from archived.targets import StorageTarget

S = JobState


class StageRunner:
    """Runs the work of each stage for the engine (which owns states, retries and timeouts)."""

    def __init__(
        self,
        *,
        config: Config,
        store: JobStore,
        targets: dict[str, StorageTarget],
        moodle_site: str,
        driver: Callable[[str], ActivityDriver],
        recorder: JobRecorder,
        timestamper: TimestampClient | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.targets = targets
        self.moodle_site = moodle_site
        self._driver = driver
        self._recorder = recorder
        self.timestamper = timestamper
        self._progress = recorder.progress
        self._log = recorder.log
        # Files operators add before packing (`archived jobs attach`), sealed into the payload by post-processing.
        self.operator_files = OperatorFiles(config.work_dir)
        # Copies optional targets missed: recorded here, made later by the daemon's housekeeping.
        self.copies = CopyCatchUp(
            store=store, targets=targets, recorder=recorder, retry=config.retry,
            spool=CopySpool(config.daemon.state_dir / "pending-copies"),
        )  # fmt: skip

    def work_dir(self, job_id: str) -> Path:
        """The job's working folder (payload, the unfinished ZIP)."""
        return self.config.work_dir / job_id

    async def run_activity(self, job: JobRecord) -> dict[str, Any]:
        driver = self._driver(job.driver)
        work = self.work_dir(job.id)
        payload = work / "payload"
        has_partial = await self.store.has_checkpoint(job.id, PARTIAL_CHECKPOINT)
        if not has_partial:
            # Without the driver's own checkpoint, leftovers of an interrupted run cannot be trusted.
            await asyncio.to_thread(shutil.rmtree, payload, True)
        payload.mkdir(parents=True, exist_ok=True)
        settings = driver.settings_model.model_validate(job.settings["activity"])
        ctx = StageContext(
            job=job,
            settings=settings,
            payload_dir=payload,
            work_dir=work,
            store=self.store,
            on_progress=lambda pct, text: self._progress(job.id, pct * 0.8, text),
            on_log=lambda level, msg: self._log(job.id, level, msg),
        )
        result = await driver.archive(ctx)
        if not isinstance(result, ActivityResult):
            raise FatalError(f"activity driver {job.driver} returned {type(result).__name__}, not an ActivityResult")
        fetcher = BackupFetcher(
            moodle=driver.env.moodle, config=self.config.backups, log=lambda level, msg: self._log(job.id, level, msg)
        )
        request = BackupRequest(job.id, job.course_id, job.cmid, result.last_modified)
        backup = await fetcher.fetch(JobSettings.model_validate(job.settings["job"]), request, payload)
        job_json = self._job_json(job, result, backup)
        await asyncio.to_thread(write_atomic, payload / "job.json", job_json)
        await self._progress(job.id, 80.0, "hashing payload")
        await asyncio.to_thread(remove_partial_files, payload)  # temp files of writes that never finished
        files = await asyncio.to_thread(scan_payload, payload)
        await self._log(job.id, LogLevel.INFO, f"payload: {len(files)} files, {sum(f.size for f in files)} bytes")
        return {"payload": [f.to_dict() for f in files], "result": result_to_dict(result)}

    def _job_json(self, job: JobRecord, result: ActivityResult, backup: dict[str, Any] | None = None) -> bytes:
        document = {
            "format": "archived-job/1",
            "job_id": job.id,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "archived_at": _iso(time.time()),
            "initiator": job.initiator.to_dict(),
            "driver": job.driver,
            "settings": job.settings,
            "moodle": {"site": result.moodle_site or self.moodle_site, "release": result.moodle_release},
            "course": result_to_dict(result)["course"],
            "activity": result_to_dict(result)["activity"],
            "users": result_to_dict(result)["users"],
            "summary": result.summary,
            "backup": backup,  # the Moodle backup (.mbz) under data/backups/, or why there is none
            "software": f"archived {__version__}",
        }
        # json.dumps escapes control characters but leaves a lone surrogate in place, which UTF-8 cannot encode.
        text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        return storable_text(text).encode("utf-8")

    async def run_post_processing(self, job: JobRecord) -> dict[str, Any]:
        checkpoints = await self.store.checkpoints(job.id)
        activity = checkpoints[S.ACTIVITY_ARCHIVING.value]
        payload = [PayloadFile.from_dict(item) for item in activity["payload"]]
        # From here on the job takes no more operator files; those added are packed under data/operator/.
        payload += await self.operator_files.seal(job.id, self.work_dir(job.id) / "payload")
        result = result_from_dict(activity["result"])
        job_settings = JobSettings.model_validate(job.settings["job"])
        created = datetime.fromtimestamp(job.created_at, UTC)
        variables = {
            "courseid": result.course.id,
            "coursename": result.course.fullname,
            "courseshortname": result.course.shortname,
            "cmid": result.activity.cmid,
            "cmtype": result.activity.modname,
            "cmname": result.activity.name,
            **time_variables(created),
        }
        bag_name = render_name(job_settings.archive_name, variables)
        retain_until = add_years(datetime.now(UTC), job_settings.retention_years).timestamp()
        bag_info = [
            ("Source-Organization", self.config.archive.source_organization),
            *([("Contact-Email", self.config.archive.contact_email)] if self.config.archive.contact_email else []),
            ("Bagging-Date", datetime.now(UTC).date().isoformat()),
            ("External-Identifier", job.id),
            (
                "External-Description",
                f"{result.activity.modname} {result.activity.name!r} of course {result.course.fullname!r}",
            ),
            ("Moodle-Site", result.moodle_site or self.moodle_site),
            ("Moodle-Release", result.moodle_release),
            ("Course", f"{result.course.fullname} ({result.course.shortname}, id {result.course.id})"),
            ("Activity", f"{result.activity.name} ({result.activity.modname}, cmid {result.activity.cmid})"),
            ("Initiated-By", str(job.initiator)),
            ("Retain-Until", _iso(retain_until) or ""),
            ("Bag-Software-Agent", f"archived {__version__}"),
        ]
        work = self.work_dir(job.id)
        dest = work / f"{bag_name}.zip"
        total = sum(f.size for f in payload) or 1
        loop = asyncio.get_running_loop()

        reported = [-1]

        def progress(done: int, _total: int) -> None:
            percent = int(100 * done / total)
            if percent > reported[0]:  # at most a hundred updates, whatever the number of files
                reported[0] = percent
                loop.call_soon_threadsafe(
                    lambda: asyncio.ensure_future(self._progress(job.id, 80 + 0.15 * percent, "packing archive"))
                )

        completeness = result.summary.get("completeness")
        statement = completeness.get("statement", []) if isinstance(completeness, dict) else []
        readme = archive_readme(bag_name=bag_name, job_id=job.id, completeness=statement)
        stamp = await self._timestamp(job, tag_files_for(payload=payload, bag_info=bag_info, readme=readme))
        built = await asyncio.to_thread(
            build_bag_zip,
            payload_dir=work / "payload",
            payload=payload,
            dest=dest,
            bag_name=bag_name,
            bag_info=bag_info,
            readme=readme,
            timestamp_files=timestamp_files(stamp) if stamp else None,
            on_progress=progress,
        )
        await self._progress(job.id, 95.0, "verifying archive")
        report = await asyncio.to_thread(verify_archive, dest)
        if not report.ok:
            dest.unlink(missing_ok=True)
            raise IntegrityError(f"the archive failed verification right after writing: {'; '.join(report.defects)}")
        await self._log(job.id, LogLevel.INFO, f"archive {dest.name}: {built.size} bytes, sha256 {built.sha256}")
        return {
            "name": dest.name,
            "path": str(dest),
            "size": built.size,
            "sha256": built.sha256,
            "retain_until": retain_until,
            "timestamp": stamp.describe() if stamp else None,
        }

    async def _timestamp(self, job: JobRecord, tag_files: dict[str, bytes]) -> Timestamp | None:
        """A verified timestamp over the SHA-512 tag manifest, or None; `[timestamp] policy` decides what a TSA
        outage or an invalid reply means: `required` fails the stage (an outage is retried with backoff),
        `best_effort` archives without a timestamp and says so in the job log."""
        if self.timestamper is None:
            return None
        await self._progress(job.id, 80.0, "requesting a timestamp")
        try:
            stamp = await self.timestamper.timestamp(tag_files[STAMPED_FILE])
        except (TsaUnavailable, TimestampInvalid) as exc:
            if self.config.timestamp.policy == "required":
                raise
            await self._log(
                job.id, LogLevel.WARNING, f"archived WITHOUT a timestamp ([timestamp] policy = best_effort): {exc}"
            )
            return None
        await self._log(job.id, LogLevel.INFO, f"timestamped: {stamp.describe()}")
        return stamp

    async def run_store(self, job: JobRecord) -> dict[str, Any]:
        checkpoints = await self.store.checkpoints(job.id)
        archive = checkpoints[S.POST_PROCESSING.value]
        path = Path(archive["path"])
        size, sha256 = await asyncio.to_thread(sha256_of_file, path)
        if (size, sha256) != (archive["size"], archive["sha256"]):
            raise IntegrityError(
                f"archive {path.name} changed since it was built ({size} bytes, sha256 {sha256[:12]}…); rebuilding"
            )
        job_settings = JobSettings.model_validate(job.settings["job"])
        names = job_settings.storage_targets or sorted(self.targets)
        stored: dict[str, Any] = dict(checkpoints.get("store.partial", {}))
        artifact_id = await self.store.add_artifact(job.id, archive["name"], size, sha256, archive["retain_until"])
        retain_until = datetime.fromtimestamp(archive["retain_until"], UTC)
        for index, name in enumerate(names):
            if name in stored:
                continue
            target = self.targets[name]
            await self._progress(job.id, 95 + 5 * index / len(names), f"storing on {name}")
            created = StorageWriteCreated(target=name, name=archive["name"], size=size, sha256=sha256)
            await self.store.outbox.append(created, job_id=job.id)
            try:
                location = await write_copy(
                    target, path, archive["name"], sha256=sha256, size=size, retain_until=retain_until,
                    job_id=job.id, recorder=self._recorder,
                )  # fmt: skip
            except ArchivedError as exc:
                failed = StorageWriteFailed(
                    target=name,
                    name=archive["name"],
                    required=target.required,
                    error_code=exc.code,
                    error_message=self._recorder.redact(str(exc)),
                )
                await self.store.outbox.append(failed, job_id=job.id)
                if target.required:
                    raise
                await self._missed(job, artifact_id, archive["name"], path, name, failed.error_message)
                continue
            await self.store.add_location(artifact_id, location, job_id=job.id)
            await self.copies.made(job.id, artifact_id, name)
            stored[name] = location.location
            await self.store.save_checkpoint(job.id, "store.partial", stored)
            await self._log(job.id, LogLevel.INFO, f"stored on {name} as {location.location} (verified)")
        return {"targets": stored}

    async def _missed(self, job: JobRecord, artifact_id: int, name: str, path: Path, target: str, error: str) -> None:
        """An optional target missed its copy: the job goes on; the copy is made later in the background."""
        next_try_at = await self.copies.missed(
            job_id=job.id, artifact_id=artifact_id, name=name, source=path, target=target, error=error
        )
        wait = max(0.0, next_try_at - time.time())
        await self._log(
            job.id, LogLevel.WARNING,
            f"optional target {target} failed: {error}; its copy is pending, next try in {wait:.0f} s",
        )  # fmt: skip


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day `years` later (29 February becomes 28 February in common years)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def payload_intact(payload_dir: Path, files: list[dict[str, Any]]) -> bool:
    """Quick check that every payload file of a checkpoint is still there with its size (hashes are
    compared again while the ZIP is written)."""
    for item in files:
        path = payload_dir / item["path"]
        if not path.is_file() or path.stat().st_size != item["size"]:
            return False
    return True


def file_has_size(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size


def remove_partial_files(work: Path) -> None:
    if not work.is_dir():
        return
    for path in work.rglob(".*.part"):
        path.unlink(missing_ok=True)
