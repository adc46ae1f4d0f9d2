"""The render pool's slots: round-robin between lanes (jobs), first come first served within a lane, and no slot
lost or handed out twice when a waiter is canceled."""

from __future__ import annotations

import asyncio

from archived_render.fair_slots import FairSlots


async def _served_in_order(slots: FairSlots, waiters: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Queue `waiters` (lane, number) in this order behind a held slot, then free slots one at a time."""
    served: list[tuple[str, int]] = []

    async def wait(lane: str, number: int) -> None:
        await slots.acquire(lane)
        served.append((lane, number))

    tasks = []
    for lane, number in waiters:
        tasks.append(asyncio.create_task(wait(lane, number)))
        await asyncio.sleep(0)  # queued in this order
    for _ in waiters:
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    return served


async def test_lanes_take_turns_whatever_their_queue_lengths() -> None:
    """A busy job with six renders waiting and a small one with two: the small one's turns alternate with the big
    one's instead of queueing behind all six (a plain semaphore would serve big 1–6 first). The big job holds the
    slot now, so the small one has the next turn."""
    slots = FairSlots(1)
    await slots.acquire("big")  # the slot is taken; everyone below waits
    waiters = [("big", n) for n in range(1, 7)] + [("small", 1), ("small", 2)]
    served = await _served_in_order(slots, waiters)
    assert served == [("small", 1), ("big", 1), ("small", 2), ("big", 2), ("big", 3), ("big", 4), ("big", 5),
                      ("big", 6)]  # fmt: skip


async def test_lanes_that_have_not_been_served_go_in_the_order_they_came() -> None:
    slots = FairSlots(1)
    await slots.acquire(None)
    served = await _served_in_order(slots, [("c", 1), ("a", 1), ("b", 1), ("a", 2), ("c", 2)])
    assert served == [("c", 1), ("a", 1), ("b", 1), ("c", 2), ("a", 2)]


async def test_free_slots_are_taken_at_once_and_never_more_than_capacity() -> None:
    slots = FairSlots(2)
    await slots.acquire("a")
    await slots.acquire("b")
    assert slots.in_use == 2
    third = asyncio.create_task(slots.acquire("a"))
    await asyncio.sleep(0.01)
    assert not third.done() and slots.waiting == 1
    slots.release()
    await third
    assert slots.in_use == 2 and slots.waiting == 0
    slots.release()
    slots.release()
    assert slots.in_use == 0


async def test_a_canceled_waiter_gives_up_its_place_and_loses_no_slot() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    canceled = asyncio.create_task(slots.acquire("b"))
    later = asyncio.create_task(slots.acquire("c"))
    await asyncio.sleep(0)
    canceled.cancel()
    await asyncio.sleep(0)
    slots.release()  # goes past the canceled waiter to the next lane
    await asyncio.wait_for(later, 1)
    assert canceled.cancelled() and slots.in_use == 1 and slots.waiting == 0
    slots.release()
    assert slots.in_use == 0


async def test_a_slot_granted_to_a_waiter_canceled_at_that_moment_is_passed_on() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    unlucky = asyncio.create_task(slots.acquire("b"))
    next_in_line = asyncio.create_task(slots.acquire("c"))
    await asyncio.sleep(0)
    slots.release()  # the slot goes to "b"…
    unlucky.cancel()  # …which is canceled before it runs again
    await asyncio.wait_for(next_in_line, 1)
    assert unlucky.cancelled() and slots.in_use == 1


async def test_resizing_follows_a_cluster_whose_workers_come_and_go() -> None:
    """No workers yet: renders wait. Two join: two waiters go at once. One leaves while both are busy: the next
    release takes the slot away instead of handing it on, so at most one render runs from then on."""
    slots = FairSlots(0)
    started: list[int] = []

    async def render(number: int) -> None:
        await slots.acquire("job")
        started.append(number)

    tasks = [asyncio.create_task(render(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert started == [] and slots.waiting == 3
    slots.resize(2)
    await asyncio.sleep(0)
    assert started == [0, 1] and slots.in_use == 2
    slots.resize(1)
    slots.release()  # render 0 ends: its slot went with the worker that left
    await asyncio.sleep(0)
    assert started == [0, 1] and slots.waiting == 1
    slots.release()  # render 1 ends: the one remaining slot passes to render 2
    await asyncio.gather(*tasks)
    assert started == [0, 1, 2] and slots.in_use == 1


async def test_failing_the_waiters_wakes_them_with_the_error() -> None:
    slots = FairSlots(0)
    waiter = asyncio.create_task(slots.acquire("job"))
    await asyncio.sleep(0)
    slots.fail_waiters(lambda: RuntimeError("closing"))
    try:
        await waiter
    except RuntimeError as exc:
        assert str(exc) == "closing"
    else:
        raise AssertionError("the waiter got a slot")
    assert slots.waiting == 0
