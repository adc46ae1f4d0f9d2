"""Pending copies in process: an in-process engine with a required local target and an optional one that can be made
to fail (`slowlocal`'s fail file); the catch-up sweep is called directly with the moment it runs at, so backoff is
checked without waiting. Also: a preset that locks the target list, and a preset naming a target nobody configured."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from archived_testplugins.slow_driver import SlowTestDriver
from archived_testplugins.slow_storage import SlowLocalConfig, SlowLocalStorage

from archived.config import parse_config
from archived.daemon.server import build_presets
from archived.errors import ConfigError
from archived.events.bus import BusConsumer, EventBus
from archived.events.dispatcher import EventDispatcher
from archived.interfaces.activity import DriverEnvironment
from archived.interfaces.storage import Tier
from archived.jobs.copy_catchup import CatchUpReport
from archived.jobs.engine import Engine
from archived.jobs.settings import JOB_PRESET, JobSettings, Preset
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Artifact
from archived.targets import StorageTarget
from tests.jobs.conftest import OPERATOR, EngineHarness

LOCKED_TARGETS = {"storage_targets": ["local", "spare"], "locked": ["retention_years", "storage_targets"]}


async def two_target_engine(root: Path, *, presets: dict[str, Any] | None = None) -> EngineHarness:
    """The harness of `tests/jobs/conftest.py` with a second, optional target `spare` (down while its fail file is)."""
    config = parse_config(
        {
            "daemon": {"state_dir": str(root / "state"), "socket": str(root / "s.sock")},
            "retry": {"max_retries": 2, "backoff_base_seconds": 60, "backoff_max_seconds": 600},
            "presets": presets or {},
        }
    )
    db = await Database.open(config.store_path)
    store = JobStore(db)
    bus = EventBus()
    driver = SlowTestDriver(DriverEnvironment(moodle=None, temp_dir=root))
    targets = {}
    for name, required in (("local", True), ("spare", False)):
        storage = SlowLocalStorage(
            name, SlowLocalConfig(path=root / name, fail_file=str(root / f"{name}-down")), Tier.LOCAL
        )
        targets[name] = StorageTarget(name, "slowlocal", storage, Tier.LOCAL, required)
    engine = Engine(
        config=config, store=store, bus=bus, activity_drivers={"slowtest": driver}, targets=targets,
        presets={
            JOB_PRESET: Preset.from_config(JOB_PRESET, config.presets.get(JOB_PRESET), JobSettings),
            "slowtest": Preset.from_config("slowtest", None, SlowTestDriver.settings_model),
        },
    )  # fmt: skip
    events = EventDispatcher(store.outbox, [BusConsumer(bus)])
    await events.start()
    await engine.start()
    return EngineHarness(engine, store, bus, events, root)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[EngineHarness]:
    h = await two_target_engine(tmp_path)
    yield h
    await h.close()


async def completed_with_spare_down(h: EngineHarness) -> tuple[str, Artifact]:
    (h.root / "spare-down").touch()
    job = await h.create(files=2, storage_targets=["local", "spare"])
    assert (await h.wait(job.id, {"completed", "failed"})).state.value == "completed"
    [artifact] = await h.store.artifacts(job.id)
    return job.id, artifact


async def event_kinds(h: EngineHarness, job_id: str) -> list[str]:
    async with h.store.db.connection.execute("SELECT kind FROM events WHERE job_id = ? ORDER BY id", (job_id,)) as c:
        return [row[0] for row in await c.fetchall()]


async def test_a_missed_copy_waits_its_backoff_and_is_made_once_the_target_is_back(harness: EngineHarness) -> None:
    h = harness
    copies = h.engine.stages.copies
    job_id, artifact = await completed_with_spare_down(h)
    assert [loc.target for loc in artifact.locations] == ["local"]
    [pending] = await copies.pending.of_job(job_id)
    assert (pending.target, pending.attempts) == ("spare", 1) and "spare" in pending.last_error
    first_try = pending.next_try_at
    assert first_try - pending.created_at == pytest.approx(60, abs=5)  # [retry] backoff_base_seconds
    assert copies.spool.path(job_id, artifact.name).is_file()
    assert not (h.root / "state" / "work" / job_id).exists()

    assert await copies.sweep(now=first_try - 1) == CatchUpReport()  # nothing due yet
    report = await copies.sweep(now=first_try)  # still down: counted, pushed back twice as far
    assert (report.copied, report.failed) == (0, 1)
    [pending] = await copies.pending.of_job(job_id)
    assert pending.attempts == 2 and pending.next_try_at == pytest.approx(first_try + 120)

    (h.root / "spare-down").unlink()
    report = await copies.sweep(now=pending.next_try_at)
    assert report.copied == 1 and await copies.pending.of_job(job_id) == []
    [artifact] = await h.store.artifacts(job_id)
    assert sorted(loc.target for loc in artifact.locations) == ["local", "spare"]
    stored = h.root / "spare" / artifact.locations[1].location
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == artifact.sha256
    assert not copies.spool.path(job_id, artifact.name).parent.exists()  # released: every copy exists
    kinds = await event_kinds(h, job_id)
    assert kinds.count("storage.write.failed") == 2 and kinds.count("storage.write.completed") == 2
    assert kinds.count("storage.write.created") == 4


async def test_without_the_kept_zip_the_copy_comes_from_another_target(harness: EngineHarness) -> None:
    h = harness
    copies = h.engine.stages.copies
    job_id, artifact = await completed_with_spare_down(h)
    kept = copies.spool.path(job_id, artifact.name)
    kept.write_bytes(b"damaged")  # a disk that lost it, or a person who "tidied up"
    (h.root / "spare-down").unlink()
    [pending] = await copies.pending.of_job(job_id)
    assert (await copies.sweep(now=pending.next_try_at)).copied == 1
    [artifact] = await h.store.artifacts(job_id)
    spare = next(loc for loc in artifact.locations if loc.target == "spare")
    assert hashlib.sha256((h.root / "spare" / spare.location).read_bytes()).hexdigest() == artifact.sha256
    logs = [entry.message for entry in await h.store.logs(job_id, limit=50)]
    assert any("kept copy" in line and "damaged" in line for line in logs)


async def test_a_deleted_job_cancels_its_pending_copy(harness: EngineHarness) -> None:
    h = harness
    copies = h.engine.stages.copies
    job_id, _ = await completed_with_spare_down(h)
    await h.engine.delete(job_id, by=OPERATOR, force=True)
    report = await copies.sweep(now=10**10)
    assert (report.canceled, report.copied, report.failed) == (1, 0, 0)
    assert await copies.pending.of_job(job_id) == [] and not (copies.spool.root / job_id).exists()


async def test_a_locked_target_list_is_forced_whoever_asks(tmp_path: Path) -> None:
    h = await two_target_engine(tmp_path, presets={"job": LOCKED_TARGETS})
    try:
        job, forced = await h.engine.create_job(
            driver="slowtest", course_id=2, cmid=7, requested={"files": 1, "storage_targets": ["local"]},
            initiator=OPERATOR,
        )  # fmt: skip
        assert forced == ["storage_targets"]
        assert (await h.wait(job.id, {"completed", "failed"})).state.value == "completed"
        [artifact] = await h.store.artifacts(job.id)
        assert sorted(loc.target for loc in artifact.locations) == ["local", "spare"]
    finally:
        await h.close()


def test_a_preset_naming_an_unconfigured_target_stops_the_start(tmp_path: Path) -> None:
    config = parse_config(
        {
            "daemon": {"state_dir": str(tmp_path), "socket": str(tmp_path / "s.sock")},
            "storage": {"local": {"driver": "local", "path": str(tmp_path / "a")}},
            "presets": {"job": {"storage_targets": ["local", "worm"], "locked": ["storage_targets"]}},
        }
    )
    with pytest.raises(ConfigError, match=r"presets\.job\.storage_targets: no storage target named 'worm'"):
        build_presets(config, {})


class BuggyStorage(SlowLocalStorage):
    """A driver with a bug (an exception that is not one of archived's): nothing here can produce one for real."""

    async def store(self, *args: Any, **kwargs: Any) -> Any:
        raise KeyError("a driver bug")


async def test_a_driver_bug_fails_one_try_and_the_copy_waits_its_backoff(harness: EngineHarness) -> None:
    h = harness
    copies = h.engine.stages.copies
    job_id, _ = await completed_with_spare_down(h)
    spare = h.engine.targets["spare"]
    spare.driver = BuggyStorage("spare", spare.driver.config, Tier.LOCAL)
    [pending] = await copies.pending.of_job(job_id)
    report = await copies.sweep(now=pending.next_try_at)
    assert (report.copied, report.failed) == (0, 1)
    [pending] = await copies.pending.of_job(job_id)
    assert pending.attempts == 2 and "KeyError" in pending.last_error and "a driver bug" in pending.last_error


async def test_a_copy_of_an_archive_whose_copies_were_deleted_or_expired_is_not_made(harness: EngineHarness) -> None:
    """The retention sweep deletes an archive's copies without deleting its job: its pending copy must not revive it."""
    h = harness
    copies = h.engine.stages.copies
    job_id, artifact = await completed_with_spare_down(h)
    (h.root / "spare-down").unlink()
    [pending] = await copies.pending.of_job(job_id)
    assert artifact.retain_until is not None
    report = await copies.sweep(now=artifact.retain_until + 1)  # retention over
    assert (report.canceled, report.copied) == (1, 0) and not (h.root / "spare").exists()

    job_id, artifact = await completed_with_spare_down(h)
    (h.root / "spare-down").unlink()
    await h.store.mark_location_deleted(artifact.id, "local")  # as the retention sweep records a deletion
    [pending] = await copies.pending.of_job(job_id)
    report = await copies.sweep(now=pending.next_try_at)
    assert (report.canceled, report.copied) == (1, 0) and await copies.pending.of_job(job_id) == []
    logs = [entry.message for entry in await h.store.logs(job_id, limit=50)]
    assert "pending copy on spare canceled: every stored copy of the archive was deleted" in logs
