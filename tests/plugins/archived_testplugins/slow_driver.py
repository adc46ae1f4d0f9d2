"""A test-only activity driver whose speed and failures the tests control.

It writes `files` payload files (deterministic content), one every `delay_seconds`, checkpointing after each,
so a restarted stage skips finished files. It records every run (pid, start, end) in `runs.log` in the job's
work folder so tests can prove that no job ran twice at the same time. Failures: `fail_times` recoverable
errors before success, or `fatal` for an unrecoverable one.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path

from pydantic import Field

from archived.errors import FatalError, RecoverableError
from archived.interfaces.activity import (
    ActivityDriver,
    ActivityRef,
    ActivityResult,
    ActivityStatus,
    ArchiveContext,
    CourseRef,
    DriverSettings,
    IncludedUser,
    LogLevel,
)


class SlowTestSettings(DriverSettings):
    """Knobs of the test driver."""

    files: int = Field(3, ge=0, le=10_000, description="number of payload files")
    file_size: int = Field(2048, ge=0, description="bytes per file")
    delay_seconds: float = Field(0.0, ge=0, description="pause before each file")
    fail_times: int = Field(0, ge=0, description="recoverable failures before success")
    fatal: bool = Field(False, description="fail with an unrecoverable error")
    secret_in_error: str = Field("", description="text put into the error message (to test redaction)")
    flavour: str = Field("plain", description="free text for preset/lock tests")
    course_name: str = Field("", description="the course name the driver reports (default: Test course N)")


def file_content(cmid: int, index: int, size: int) -> bytes:
    """Deterministic, incompressible bytes of payload file `index` (so packing takes real time)."""
    return random.Random(f"{cmid}:{index}").randbytes(size)


class SlowTestDriver(ActivityDriver):
    """Writes synthetic payload files slowly."""

    name = "slowtest"
    modname = "slowtest"
    title = "Test activity"
    settings_model = SlowTestSettings

    async def inspect(self, course_id: int, cmids: list[int]) -> list[ActivityStatus]:
        """Every test activity is archivable."""
        return [ActivityStatus(cmid, f"Test activity {cmid}", True, None, f"fp-{cmid}") for cmid in cmids]

    async def archive(self, ctx: ArchiveContext) -> ActivityResult:
        """Write the files (see module docstring)."""
        settings = ctx.settings
        assert isinstance(settings, SlowTestSettings)
        # Tests point ARCHIVED_TEST_RUNS_DIR outside the work folder, which cleanup removes.
        runs_dir = Path(os.environ.get("ARCHIVED_TEST_RUNS_DIR", ctx.work_dir))
        runs_dir.mkdir(parents=True, exist_ok=True)
        runs = runs_dir / f"{ctx.job_id}.runs.log"
        started = time.time()
        with runs.open("a") as handle:  # a run killed with SIGKILL leaves only this line
            handle.write(f"start {os.getpid()} {started}\n")
        attempts_file = Path(ctx.work_dir) / "attempts.count"
        attempts = int(attempts_file.read_text()) + 1 if attempts_file.exists() else 1
        attempts_file.write_text(str(attempts))
        try:
            if settings.fatal:
                raise FatalError(f"test driver: fatal failure as requested {settings.secret_in_error}".strip())
            if attempts <= settings.fail_times:
                raise RecoverableError(f"test driver: transient failure {attempts}/{settings.fail_times}")
            checkpoint = await ctx.load_checkpoint() or {"done": []}
            done = set(checkpoint["done"])
            if done:
                await ctx.log(LogLevel.INFO, f"resuming: {len(done)} of {settings.files} files already written")
            folder = Path(ctx.payload_dir) / "files"
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(settings.files):
                if index in done:
                    continue
                await asyncio.sleep(settings.delay_seconds)
                target = folder / f"file-{index:05d}.bin"
                temp = folder / f".file-{index:05d}.bin.part"
                temp.write_bytes(file_content(ctx.cmid, index, settings.file_size))
                os.replace(temp, target)
                done.add(index)
                await ctx.save_checkpoint({"done": sorted(done)})
                await ctx.progress(100 * len(done) / max(1, settings.files), f"file {len(done)}/{settings.files}")
            (Path(ctx.payload_dir) / "index.json").write_text(json.dumps({"files": settings.files}, indent=1))
        finally:
            with runs.open("a") as handle:
                handle.write(f"end {os.getpid()} {time.time()}\n")
        return ActivityResult(
            course=CourseRef(
                ctx.course_id, f"TEST-{ctx.course_id}", settings.course_name or f"Test course {ctx.course_id}"
            ),
            activity=ActivityRef(ctx.cmid, "slowtest", ctx.cmid, f"Test activity {ctx.cmid}"),
            users=[IncludedUser(3, "jmueller", "Jürgen", "Müller", "4711001")],
            summary={"files": settings.files},
            moodle_site="http://moodle.invalid",
            moodle_release="test",
        )
