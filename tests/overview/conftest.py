"""A Moodle simulator in the test process and a daemon process pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.simulator.simulator import MoodleSimulator


@pytest.fixture
def simulator() -> Iterator[MoodleSimulator]:
    """The seeded reference site (course 2 "Exam WS2026" with quiz cmid 2) on a free loopback port."""
    with MoodleSimulator(seed=1, release="4.5") as sim:
        yield sim


def moodle_overrides(root: Path, sim: MoodleSimulator) -> dict[str, object]:
    """Daemon configuration keys that point it at the simulator."""
    token = root / "moodle-token"
    token.write_text(sim.token + "\n")
    token.chmod(0o600)
    return {
        "moodle.url": sim.url,
        "moodle.token_file": str(token),
        "moodle.requests_per_second": 0,
        "moodle.max_concurrent_requests": 8,
        "workers.render_processes": 1,
    }


@pytest.fixture
def moodle_daemon(daemon_factory, simulator: MoodleSimulator, tmp_path: Path):
    """A daemon with the quiz driver, talking to the simulator."""
    return daemon_factory(**moodle_overrides(tmp_path, simulator))
