"""A semaphore that shares its slots fairly between lanes: round-robin between lanes, first come first served within
one.

The render service has a fixed number of worker processes (`[workers] render_processes`) for every job of the
daemon. A plain semaphore serves waiters in arrival order, so a job that keeps more renders waiting (more attempt
runners, a larger `fetch_concurrency`) would take a proportionally larger share and could hold back a small job
for as long as it runs. Here each job waits in its own lane, and a freed slot goes to the waiting lane that was
served least recently: two busy jobs get one slot in two each, whatever their queue lengths.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

# Lanes whose last turn is remembered. A lane forgotten (beyond this many newer ones) counts as never served: at
# worst it gets one turn early. Bounded, because a daemon sees a new lane for every job it ever runs.
REMEMBERED_LANES = 1024


class FairSlots:
    """`capacity` slots handed out round-robin between lanes (e.g. one per job), in arrival order within a lane."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = capacity
        self._lanes: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()  # lanes with waiters
        self._turns = 0
        self._last_turn: OrderedDict[Hashable, int] = OrderedDict()  # lane → the turn it was last served

    @property
    def in_use(self) -> int:
        """Slots held now."""
        return self.capacity - self._free

    @property
    def waiting(self) -> int:
        """Acquirers waiting for a slot, over all lanes."""
        return sum(1 for queue in self._lanes.values() for future in queue if not future.done())

    async def acquire(self, lane: Hashable = None) -> None:
        """Wait for a slot in `lane`'s turn; `release()` gives it back."""
        if self._free > 0 and not self._lanes:
            self._free -= 1
            self._served(lane)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lanes.setdefault(lane, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot arrived together with the cancellation: pass it on
            else:
                self._forget(lane, future)
            raise

    def release(self) -> None:
        """Give a slot back: to the first waiter of the waiting lane served least recently, else to the free slots."""
        if self._free < 0:  # the capacity shrank while this slot was held: the slot goes away
            self._free += 1
            return
        while self._lanes:
            # Ties (lanes never served) go in the order the lanes began to wait.
            lane = min(self._lanes, key=lambda waiting: self._last_turn.get(waiting, 0))
            queue = self._lanes[lane]
            future = queue.popleft()
            if not queue:
                del self._lanes[lane]
            if not future.done():
                future.set_result(None)  # the slot passes straight to this waiter
                self._served(lane)
                return
        self._free += 1

    def resize(self, capacity: int) -> None:
        """Change the number of slots (a render cluster's workers come and go); waiters get new slots at once.

        Shrinking never takes a slot from its holder: the surplus is absorbed as holders release.
        """
        self._free += capacity - self.capacity
        self.capacity = capacity
        while self._free > 0 and self._lanes:
            self._free -= 1
            self.release()  # to a waiter, or back to the free slots when only cancelled waiters were left

    def fail_waiters(self, error: Callable[[], BaseException]) -> None:
        """Wake every waiter with a fresh `error()` instead of a slot (the slots' owner closes, or has no slots)."""
        lanes, self._lanes = self._lanes, OrderedDict()
        for queue in lanes.values():
            for future in queue:
                if not future.done():
                    future.set_exception(error())

    def _served(self, lane: Hashable) -> None:
        self._turns += 1
        self._last_turn[lane] = self._turns
        self._last_turn.move_to_end(lane)
        while len(self._last_turn) > REMEMBERED_LANES:
            self._last_turn.popitem(last=False)

    def _forget(self, lane: Hashable, future: asyncio.Future[None]) -> None:
        queue = self._lanes.get(lane)
        if queue is None:
            return
        try:
            queue.remove(future)
        except ValueError:
            return
        if not queue:
            del self._lanes[lane]
