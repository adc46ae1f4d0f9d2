"""Every recorded Moodle 4.5 and 5.0 response, replayed over HTTP against the simulator in the same profile.

The simulator's answer must have the recorded structure (keys, key order, types, nesting), status and
headers; error answers and pluginfile downloads must match exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from archived.simulator import MoodleSimulator
from tests.simulator.recordings import (
    MANAGEFILES,
    RECORDED_HOST,
    Recording,
    recordings,
    replay,
    structure_differences,
)

ALL = recordings("4.5") + recordings("5.0")
REST_HEADERS = ("Cache-Control", "Expires", "Pragma", "Accept-Ranges", "Access-Control-Allow-Origin", "Content-Type")
FILE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Content-Disposition",
    "Cache-Control",
    "Accept-Ranges",
    "Content-Type",
)


@pytest.fixture(scope="module")
def simulators() -> Iterator[dict[str, MoodleSimulator]]:
    """One simulator per recorded release, shared by the replays of this module."""
    started = {release: MoodleSimulator(seed=1, release=release).start() for release in ("4.5", "5.0")}
    yield started
    for simulator in started.values():
        simulator.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the whole module (creating clients is the slow part of a replay)."""
    with httpx.Client(timeout=10.0) as client:
        yield client


def _replay(recording: Recording, simulators: dict[str, MoodleSimulator], http: httpx.Client) -> httpx.Response:
    sim = simulators[recording.release]
    sim.debug = recording.debug
    if recording.number in MANAGEFILES:
        sim.grant("moodle/course:managefiles")
    else:
        sim.revoke("moodle/course:managefiles")
    return replay(recording, sim.url, sim.token, http)


def test_every_recording_is_covered() -> None:
    """Both releases' recordings are found (56 + 65 files), so the parametrised test cannot pass vacuously."""
    assert len(recordings("4.5")) == 56
    assert len(recordings("5.0")) == 65


@pytest.mark.parametrize("recording", ALL, ids=str)
def test_replay_matches_recording(
    recording: Recording, simulators: dict[str, MoodleSimulator], http: httpx.Client
) -> None:
    """Status, headers and JSON structure equal the recording; errors and files equal it exactly."""
    response = _replay(recording, simulators, http)
    recorded_http = recording.data["http"]
    assert response.status_code == recorded_http["status"]
    names = FILE_HEADERS if recording.is_pluginfile else REST_HEADERS
    for name in names:
        assert response.headers.get(name) == recorded_http["headers"].get(name), name
    if "body_file" in recording.data:
        assert response.content == (recording.path.parent / recording.data["body_file"]).read_bytes()
        return
    simulated = response.json()
    recorded = recording.data["response"]
    assert structure_differences(recorded, simulated) == []
    if isinstance(recorded, dict) and ("exception" in recorded or "errorcode" in recorded):
        assert simulated == recorded


# Recordings whose bytes depend on data the simulator cannot pin down: the private access key, row order of
# queries without ORDER BY, seeded attempt responses, and the one-second jitter of the 5.0 site's clock.
NOT_BYTE_EQUAL = {
    "4.5": {"01", "18", "19", "20", "32"},
    "5.0": {"01", "04", "18", "19", "20", "25", "27", "29", "30", "32"},
}


@pytest.mark.parametrize("recording", [r for r in ALL if not r.is_pluginfile], ids=str)
def test_raw_body_is_php_json(recording: Recording, simulators: dict[str, MoodleSimulator], http: httpx.Client) -> None:
    """PHP `json_encode` bytes: ASCII only, every slash escaped; byte-identical where the data is pinned."""
    sim = simulators[recording.release]
    response = _replay(recording, simulators, http)
    body = response.content.decode("ascii")
    assert body.count("/") == body.count("\\/")
    if recording.number not in NOT_BYTE_EQUAL[recording.release]:
        shown = body.replace(sim.url.replace("/", "\\/"), RECORDED_HOST.replace("/", "\\/"))
        assert shown == recording.data["raw"]
