"""Moodle 5.0 lists a course's hidden question bank as a `qbank` module: it is no activity to archive.

The simulator replays the recorded 5.0 course ("Mathematics I": the quiz and its question bank in section 0);
a real daemon's course overview shows the quiz only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.overview.conftest import moodle_overrides

pytestmark = pytest.mark.slow


@pytest.fixture
def simulator_50() -> Iterator[MoodleSimulator]:
    """The recorded site on 5.0 plus the replayed course of the real 5.0 site."""
    with MoodleSimulator(seed=1, release="5.0", size=SimulatorSize(livequiz=True)) as sim:
        yield sim


async def test_the_question_bank_is_not_listed(daemon_factory, simulator_50: MoodleSimulator, tmp_path: Path) -> None:
    course_id = next(c.id for c in simulator_50.world.courses.values() if c.shortname == "MATH1-WS2026")
    bank = next(m for m in simulator_50.world.modules.values() if m.course == course_id and m.modname == "qbank")
    daemon = daemon_factory(**moodle_overrides(tmp_path, simulator_50))
    async with daemon.client() as client:
        course = await client.call("courses.show", {"course_id": course_id})
        assert [(a["modname"], a["name"], a["badge"]) for a in course["activities"]] == [
            ("quiz", "Final exam Mathematics I", "never")
        ]
        assert course["course"]["activity_count"] == 1
        listing = await client.call("courses.list", {"badge": "unsupported"})
        assert course_id not in {c["id"] for c in listing["courses"]}
        with pytest.raises(RpcError) as err:
            await client.call("jobs.create", {"course_id": course_id, "cmid": bank.id})
        assert err.value.code == ErrorCode.NOT_FOUND and f"no activity with cmid {bank.id}" in err.value.message
