"""`daemon.status` keeps its Moodle check fresh: an old check starts another in the background."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from archived.config import MoodleConfig
from archived.events.bus import EventBus
from archived.moodle.factory import build_moodle_api
from archived.overview import index as overview
from archived.overview.index import CourseIndex
from archived.simulator.simulator import MoodleSimulator
from archived.store.database import Database
from archived.store.jobs import JobStore


async def test_an_old_moodle_check_is_made_again(
    simulator: MoodleSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moodle = MoodleConfig(url=simulator.url, token_env="UNUSED", requests_per_second=0)
    api = build_moodle_api(moodle, simulator.token)
    db = await Database.open(tmp_path / "store.sqlite3")
    index = CourseIndex(api=api, moodle=moodle, refresh_cooldown=60, drivers={}, store=JobStore(db), bus=EventBus())
    try:
        await index.refresh(force=True)
        first = index.moodle_status()
        assert first["reachable"] is True and first["checked_at"]
        simulator.stats.reset()
        assert index.moodle_status() == first  # fresh: Moodle is not asked again
        await asyncio.sleep(0.05)
        assert simulator.stats.count("core_webservice_get_site_info") == 0

        monkeypatch.setattr(overview, "MOODLE_CHECK_SECONDS", 0.0)
        checked_before = index.status.checked_at
        index.moodle_status()  # answers with the old check, asks Moodle in the background
        for _ in range(200):
            if index.status.checked_at != checked_before:
                break
            await asyncio.sleep(0.02)
        assert simulator.stats.count("core_webservice_get_site_info") == 1
        assert index.status.reachable is True and index.status.checked_at > (checked_before or 0)
        assert simulator.stats.count("core_course_get_courses_by_field") == 0  # the site info only
    finally:
        await index.close()
        await api.client.aclose()
        await db.close()
