"""Time limits are deadlines: a Moodle that trickles its answer cannot hold a request past `timeout` (REST), a
download that falls below the minimum rate or runs past its overall cap fails, each with a recoverable timeout
error that names the call or file and the limit. Against the Moodle simulator's slow-body fault and a raw
loopback server that stops sending."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from archived.errors import is_recoverable
from archived.moodle.client import MoodleClient
from archived.moodle.errors import MoodleTimeoutError
from archived.moodle.transfer import TransferLimits, TransferWatch
from archived.simulator import MoodleSimulator

IMAGE = "/pluginfile.php/13/question/questiontext/1/6/6/triangle%20diagram.png"  # 1,320 bytes on 4.5


@pytest.fixture
def sim() -> Iterator[MoodleSimulator]:
    """A Moodle 4.5 simulator on loopback."""
    with MoodleSimulator(seed=1, release="4.5") as simulator:
        yield simulator


def _client(sim_url: str, token: str, **options: object) -> MoodleClient:
    settings: dict[str, object] = {"requests_per_second": 0, "backoff_base": 0.001, "backoff_max": 0.01}
    settings.update(options)
    return MoodleClient(sim_url, token, **settings)  # type: ignore[arg-type]


@pytest.mark.timeout(60)
async def test_rest_answer_trickling_in_hits_the_deadline(sim: MoodleSimulator) -> None:
    # 2.3 kB at 100 bytes/s: every read gets a few bytes, so a per-read timeout never fires.
    sim.faults.slow_body(100, endpoint="rest", function="core_webservice_get_site_info")
    async with _client(sim.url, sim.token, timeout=1.0, retries=1) as client:
        with pytest.raises(MoodleTimeoutError) as caught:
            await client.call("core_webservice_get_site_info")
    error = caught.value
    assert is_recoverable(error) and error.code == "moodle_timeout"
    assert "did not answer within 1 s while core_webservice_get_site_info()" in str(error)
    assert "timeout_seconds = 1" in str(error) and "Gave up after 2 attempts" in str(error)
    assert sim.request_count("core_webservice_get_site_info") == 2
    assert sim.token not in str(error)


@pytest.mark.timeout(60)
async def test_download_below_the_minimum_rate_fails(sim: MoodleSimulator) -> None:
    sim.faults.slow_body(100, endpoint="pluginfile")
    limits = TransferLimits(min_bytes_per_second=1000, window_seconds=0.5, total_seconds=600)
    async with _client(sim.url, sim.token, timeout=30, retries=0, transfer=limits) as client:
        with pytest.raises(MoodleTimeoutError) as caught:
            await client.fetch_file(sim.url + IMAGE)
    message = str(caught.value)
    assert is_recoverable(caught.value)
    assert "triangle%20diagram.png" in message and "too slow" in message
    assert "minimum of 1000 bytes/s over 0.5 s" in message and "download_min_bytes_per_second" in message
    assert sim.token not in message and "token=***" in message


@pytest.mark.timeout(60)
async def test_download_past_the_overall_cap_fails(sim: MoodleSimulator, tmp_path: Path) -> None:
    # Fast enough for the minimum rate, too slow to finish in time.
    sim.faults.slow_body(400, endpoint="pluginfile")
    limits = TransferLimits(min_bytes_per_second=100, window_seconds=0.5, total_seconds=1.0)
    async with _client(sim.url, sim.token, timeout=30, retries=0, transfer=limits) as client:
        with pytest.raises(MoodleTimeoutError) as caught:
            await client.download(sim.url + IMAGE, tmp_path / "image.png", max_bytes=10_000)
    message = str(caught.value)
    assert "did not finish within 1 s" in message and "download_timeout_seconds = 1" in message
    assert "triangle%20diagram.png" in message and sim.token not in message
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


@pytest.mark.timeout(60)
async def test_download_that_stalls_after_the_headers_fails(stalling_server: str) -> None:
    limits = TransferLimits(min_bytes_per_second=100, window_seconds=0.5, total_seconds=600)
    # The per-read timeout (30 s) is far away: the rate window must end it.
    async with _client(stalling_server, "t0ken", timeout=30, retries=0, transfer=limits) as client:
        with pytest.raises(MoodleTimeoutError) as caught:
            await client.fetch_file(stalling_server + "/webservice/pluginfile.php/1/a/0/big.bin")
    assert "too slow" in str(caught.value) and "100 bytes received" in str(caught.value)


@pytest.fixture
async def stalling_server() -> AsyncIterator[str]:
    """A raw server that sends the headers of a 100 kB file, 100 bytes of it, then nothing."""
    idle = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n")
        writer.write(b"x" * 100)
        await writer.drain()
        await idle.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    idle.set()
    server.close()
    await server.wait_closed()


def test_transfer_watch_deadlines() -> None:
    watch = TransferWatch(TransferLimits(min_bytes_per_second=100, window_seconds=10, total_seconds=35), 1000.0)
    assert watch.deadline() == 1010.0  # the first window needs 1,000 bytes
    watch.add(600, 1004.0)
    assert watch.deadline() == 1010.0
    watch.add(400, 1009.0)
    assert watch.deadline() == 1020.0  # quota met: the next window must meet it too
    watch.add(1000, 1012.0)
    assert watch.deadline() == 1030.0
    watch.add(5000, 1021.0)
    assert watch.deadline() == 1035.0  # the overall cap comes first
    assert watch.received == 7000
    assert not watch.over_time(1034.9) and watch.over_time(1035.0)
    unlimited = TransferWatch(TransferLimits(min_bytes_per_second=0, window_seconds=10, total_seconds=60), 0.0)
    assert unlimited.deadline() == 60.0


@pytest.mark.parametrize("options", [{"min_bytes_per_second": -1}, {"window_seconds": 0}, {"total_seconds": 0}])
def test_transfer_limits_are_validated(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TransferLimits(**options)
