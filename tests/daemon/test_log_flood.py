"""A daemon out of file descriptors does not flood its log: asyncio's accept errors are rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.socket_abuse import IdleConnections, LimitedDaemon

ACCEPT_ERROR = "socket.accept() out of system resource"


@pytest.fixture
def limited_daemon(tmp_path: Path) -> Iterator:
    """Start a daemon under an open-file limit (only the test user connects)."""
    started: list[LimitedDaemon] = []

    def start(nofile: tuple[int, int], **overrides: object) -> LimitedDaemon:
        process = LimitedDaemon(tmp_path, nofile, readers=False, **overrides)
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()


async def test_accept_errors_when_out_of_file_descriptors_do_not_flood_the_log(limited_daemon) -> None:
    # No descriptors kept back for jobs and no cap below the limit: the operator's own connections exhaust them,
    # and every accept() after that fails (asyncio retries it, logging each failure with its traceback).
    daemon = limited_daemon(
        (64, 64),
        **{
            "daemon.file_descriptor_reserve": 0,
            "daemon.max_connections": 1000,
            "daemon.max_connections_per_user": 1000,
        },
    )
    flood = IdleConnections(daemon.socket, 200, timeout=5, as_reader=False)
    try:
        await flood.opened()
        assert flood.unanswered == 1  # the daemon could not accept it: out of file descriptors
    finally:
        flood.close()
    lines = daemon.log().splitlines()
    errors = [line for line in lines if ACCEPT_ERROR in line]
    assert errors, "the daemon never ran out of file descriptors; the test did not test anything"
    assert len(errors) <= 11, f"{len(errors)} accept errors logged"  # 10, then one notice of the suppression
    assert "further copies are counted" in errors[-1]
    assert len(lines) < 300, f"{len(lines)} log lines"
    # With the connections gone, the daemon serves again.
    for _ in range(100):
        try:
            async with daemon.client() as client:
                assert (await client.call("daemon.status"))["pid"] == daemon.process.pid
                return
        except Exception:
            await asyncio.sleep(0.1)
    raise AssertionError("the daemon did not serve again after the connections closed")
