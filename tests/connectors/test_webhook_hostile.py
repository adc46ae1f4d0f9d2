"""Receivers that attack the webhook connector: an answer that never ends, an answer dribbled a byte at a time.
Neither holds the connector's lane beyond `timeout_seconds`, and neither fills the daemon's memory or its records."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from archived.protocol.connectors import DeadLettersParams
from archived.store.jobs import JobStore

from .conftest import add_job, running, until_async

RUN_FOR_SECONDS = 30.0  # how long a hostile answer goes on at most (the server's own bound)


class Hostile(BaseHTTPRequestHandler):
    """Answers 200, then a body that never ends (`/endless`) or one byte every 0.2 s (`/dribble`)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.end_headers()  # HTTP/1.0 without a length: the body lasts until the connection closes
        deadline = time.monotonic() + RUN_FOR_SECONDS
        try:
            while time.monotonic() < deadline:
                if self.path == "/endless":
                    self.wfile.write(b"\x1b[2J" + b"A" * 65536)
                else:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
        except OSError:
            pass  # the connector hung up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    server.server_close()


async def test_an_endless_answer_is_read_only_as_far_as_it_is_kept(store: JobStore, hostile: str) -> None:
    table = {"driver": "webhook", "url": f"{hostile}/endless", "events": ["job.created"]}
    async with running(store, {"campus": table}) as c:
        await add_job(store, "job-1")

        async def delivered() -> bool:
            return (await c.status()).connectors[0].delivered == 1

        await until_async(delivered, "the event delivered", timeout=RUN_FOR_SECONDS / 2)
    async with store.db.committed_view() as conn, conn.execute("SELECT output FROM connector_deliveries") as cur:
        [(output,)] = [tuple(row) for row in await cur.fetchall()]
    assert output.startswith("HTTP 200 \x1b[2JAAAA") and output.endswith("more characters)") and len(output) < 700


async def test_an_answer_dribbled_a_byte_at_a_time_ends_the_attempt_at_the_timeout(
    store: JobStore, hostile: str
) -> None:
    table = {
        "driver": "webhook", "url": f"{hostile}/dribble", "events": ["job.created"], "timeout_seconds": 1.0,
        "max_attempts": 2, "retry_base_seconds": 0.01,
    }  # fmt: skip
    async with running(store, {"campus": table}) as c:
        await add_job(store, "job-1")

        async def dead() -> bool:
            return (await c.dead_letters(DeadLettersParams())).total == 1

        await until_async(dead, "a dead letter", timeout=RUN_FOR_SECONDS / 2)
        [letter] = (await c.dead_letters(DeadLettersParams())).dead_letters
    assert letter.attempts == 2 and "no complete answer within 1.0 s" in letter.error
