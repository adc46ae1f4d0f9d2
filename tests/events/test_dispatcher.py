"""The dispatcher against a real store: the outbox is the one path to the live bus and every other consumer,
each consumer keeps its position, and only committed events are delivered."""

from __future__ import annotations

import asyncio

import pytest

from archived.events import dispatcher as dispatcher_module
from archived.events.bus import BusConsumer, EventBus
from archived.events.dispatcher import EventDispatcher
from archived.protocol.events import EventNotification, StorageWriteCreated
from archived.store.jobs import JobStore

from .conftest import RecordingConsumer, write_event

HOUR = 3600.0  # a safety poll that never comes within a test: deliveries there are woken by commits


async def wait_for(condition, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"never happened: {what}")
        await asyncio.sleep(0.01)


async def test_events_reach_a_subscriber_through_the_outbox_right_after_the_commit(store: JobStore) -> None:
    bus = EventBus()
    subscription = bus.subscribe(kinds=["storage"])
    await write_event(store.outbox, "before.zip")
    assert subscription.pending() == 0  # writing an event publishes nothing by itself: the dispatcher does
    dispatcher = EventDispatcher(store.outbox, [BusConsumer(bus)], poll_seconds=HOUR)
    await dispatcher.start()
    try:
        await write_event(store.outbox, "after.zip")
        event = await asyncio.wait_for(subscription.get(), 10)  # woken by the commit, not by the hourly poll
        assert event.kind == "storage.write.created" and event.data["name"] == "after.zip"
        assert event.id == await store.outbox.newest_id()
        notification = EventNotification.model_validate(event.to_dict())  # the params subscribers receive
        assert notification.id == event.id and notification.version == 1 and notification.kind == event.kind
        assert subscription.pending() == 0  # a new consumer starts at the newest event, not with the history
    finally:
        await dispatcher.stop()


async def test_a_restarted_dispatcher_delivers_what_was_pending_and_nothing_twice(store: JobStore) -> None:
    first = RecordingConsumer()
    dispatcher = EventDispatcher(store.outbox, [first], poll_seconds=HOUR)
    await dispatcher.start()
    for index in range(3):
        await write_event(store.outbox, f"{index}.zip")
    await dispatcher.stop()
    assert len(first.ids) == 3
    for index in range(3, 5):  # committed while no dispatcher runs (the daemon was down)
        await write_event(store.outbox, f"{index}.zip")

    again = RecordingConsumer()
    restarted = EventDispatcher(store.outbox, [again], poll_seconds=HOUR)
    await restarted.start()
    try:
        await wait_for(lambda: len(again.ids) >= 2, "the pending events")
        assert await restarted.flush(10)
        assert [e.data["name"] for e in again.received] == ["3.zip", "4.zip"]
        assert again.ids[0] > first.ids[-1]
        assert (await store.outbox.positions())["recorder"] == again.ids[-1]
    finally:
        await restarted.stop()


async def test_a_failing_consumer_is_retried_and_holds_up_no_other(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_module, "RETRY_BASE_SECONDS", 0.01)
    flaky = RecordingConsumer("flaky", failures=2)
    steady = RecordingConsumer("steady")
    dispatcher = EventDispatcher(store.outbox, [flaky, steady], poll_seconds=HOUR)
    await dispatcher.start()
    try:
        await write_event(store.outbox)
        await wait_for(lambda: steady.ids and flaky.ids, "delivery to both consumers")
        assert flaky.attempts == 3 and flaky.ids == steady.ids  # the same event, once, after two failures
        assert dispatcher.delivered_up_to() == steady.ids[-1]
    finally:
        await dispatcher.stop()


async def test_events_of_a_transaction_that_rolled_back_are_never_delivered(store: JobStore) -> None:
    consumer = RecordingConsumer()
    dispatcher = EventDispatcher(store.outbox, [consumer], poll_seconds=HOUR)
    await dispatcher.start()
    try:
        with pytest.raises(RuntimeError):
            async with store.db.transaction() as conn:
                rolled_back = StorageWriteCreated(target="local", name="rolled-back.zip", size=1, sha256="0" * 64)
                await store.outbox.record(conn, rolled_back, job_id=None)
                raise RuntimeError("the change failed")
        await write_event(store.outbox, "committed.zip")  # may reuse the rolled-back row's id
        await wait_for(lambda: consumer.ids, "the committed event")
        assert await dispatcher.flush(10)
        assert [e.data["name"] for e in consumer.received] == ["committed.zip"]
    finally:
        await dispatcher.stop()
