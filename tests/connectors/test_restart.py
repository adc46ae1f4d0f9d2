"""A lane stopped in the middle of a batch (as a killed daemon's is) sends, after the restart, only what it had not
delivered yet: the delivery records say what went out even when the lane's position was not stored."""

from __future__ import annotations

from pathlib import Path

from archived.config import parse_config
from archived.connectors.service import Connectors
from archived.events.dispatcher import EventDispatcher
from archived.protocol.events import StorageWriteCreated
from archived.store.jobs import JobStore

from .conftest import HOUR, secret_file, until
from .receiver import WebhookReceiver

SECRET = "restart-secret"


async def test_a_lane_stopped_mid_batch_resends_nothing_that_was_delivered(store: JobStore, tmp_path: Path) -> None:
    receiver = WebhookReceiver(secret=SECRET, refuse_after=1).start()
    table = {
        "campus": {
            "driver": "webhook", "url": receiver.url, "events": ["storage.write.created"], "max_attempts": 100,
            "secret_file": str(secret_file(tmp_path, "secret", SECRET)), "retry_base_seconds": 0.01,
            "retry_max_seconds": 0.05,
        }
    }  # fmt: skip
    try:
        connectors = Connectors(parse_config({"connectors": table}), store)
        dispatcher = EventDispatcher(store.outbox, list(connectors.consumers.values()), poll_seconds=HOUR)
        await dispatcher.start()
        async with store.db.transaction() as conn:  # one commit: the lane gets both in one batch
            for name in ("first.zip", "second.zip"):
                event = StorageWriteCreated(target="local", name=name, size=1, sha256="0" * 64)
                await store.outbox.record(conn, event, job_id=None)
        first, second = [event.id for event in await store.outbox.after(0)]
        await until(lambda: receiver.attempts(second) >= 2, "the second event is being retried")
        await dispatcher.stop(flush_seconds=0)  # the daemon dies: the batch never finished
        await connectors.close()
        assert (await store.outbox.positions())["connector:campus"] < first  # the position is from before both

        receiver.refuse_after = None
        connectors = Connectors(parse_config({"connectors": table}), store)
        dispatcher = EventDispatcher(store.outbox, list(connectors.consumers.values()), poll_seconds=HOUR)
        await dispatcher.start()
        await until(lambda: len(receiver.accepted) == 2, "the second event delivered after the restart")
        await dispatcher.stop()
        await connectors.close()
    finally:
        receiver.stop()
    assert receiver.attempts(first) == 1 and receiver.repeats == 0
    assert list(receiver.accepted) == [str(first), str(second)]
