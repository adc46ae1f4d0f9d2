"""An in-process engine with the test activity driver, real local storage and the event dispatcher feeding the
live bus from the outbox (as in the daemon)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from archived_testplugins.slow_driver import SlowTestDriver
from archived_testplugins.slow_storage import SlowLocalConfig, SlowLocalStorage

from archived.config import parse_config
from archived.events.bus import BusConsumer, EventBus
from archived.events.consumer import EventConsumer
from archived.events.dispatcher import EventDispatcher
from archived.interfaces.activity import DriverEnvironment
from archived.interfaces.storage import Tier
from archived.jobs.engine import Engine
from archived.jobs.settings import JOB_PRESET, JobSettings, Preset
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Initiator, JobRecord
from archived.targets import StorageTarget

OPERATOR = Initiator("operator", "tester", 1000)


class EngineHarness:
    """An engine plus the handles tests need."""

    def __init__(self, engine: Engine, store: JobStore, bus: EventBus, events: EventDispatcher, root: Path) -> None:
        self.engine = engine
        self.store = store
        self.bus = bus
        self.events = events
        self.root = root
        self.archive_dir = root / "archive"
        self.fail_file = root / "storage-down"

    async def create(self, **settings: Any) -> JobRecord:
        job, _ = await self.engine.create_job(
            driver="slowtest", course_id=2, cmid=7, requested=settings, initiator=OPERATOR
        )
        return job

    async def wait(self, job_id: str, states: set[str], timeout: float = 30) -> JobRecord:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            job = await self.store.get(job_id)
            if job.state.value in states:
                return job
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"job stayed {job.state}, wanted {states}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Stop the runners at once, then the dispatcher, then close the store (like a daemon stopped hard)."""
        await self.engine.stop_hard()
        await self.events.stop(flush_seconds=0)
        await self.store.close()
        await self.store.db.close()

    def runs(self, job_id: str) -> list[str]:
        """The lines the test driver logged: `start <pid> <time>` / `end <pid> <time>`."""
        path = self.root / "state" / "work" / job_id / f"{job_id}.runs.log"
        return path.read_text().splitlines() if path.exists() else []


async def make_engine(
    root: Path,
    *,
    presets: dict[str, Any] | None = None,
    consumers: Sequence[EventConsumer] = (),
    **daemon: Any,
) -> EngineHarness:
    config = parse_config(
        {
            "daemon": {"state_dir": str(root / "state"), "socket": str(root / "s.sock"), **daemon},
            "retry": {"max_retries": 2, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2},
            "presets": presets or {},
        }
    )
    db = await Database.open(config.store_path)
    store = JobStore(db)
    bus = EventBus()
    driver = SlowTestDriver(DriverEnvironment(moodle=None, temp_dir=root))
    storage = SlowLocalStorage(
        "local", SlowLocalConfig(path=root / "archive", fail_file=str(root / "storage-down")), Tier.LOCAL
    )
    targets = {"local": StorageTarget("local", "slowlocal", storage, Tier.LOCAL, True)}
    preset_map = {
        JOB_PRESET: Preset.from_config(JOB_PRESET, config.presets.get(JOB_PRESET), JobSettings),
        "slowtest": Preset.from_config("slowtest", config.presets.get("slowtest"), SlowTestDriver.settings_model),
    }
    engine = Engine(
        config=config,
        store=store,
        bus=bus,
        activity_drivers={"slowtest": driver},
        targets=targets,
        presets=preset_map,
        secrets=["s3cr3t-t0ken"],
    )
    events = EventDispatcher(store.outbox, [BusConsumer(bus), *consumers])
    await events.start()
    await engine.start()
    return EngineHarness(engine, store, bus, events, root)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[EngineHarness]:
    h = await make_engine(tmp_path)
    yield h
    await h.close()
