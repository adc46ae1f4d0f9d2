"""Pacing requests to Moodle: a rate limiter and the retry backoff schedule.

Exam time is when Moodle is busiest and when archiving is least welcome, so the client spaces its requests
evenly (a token bucket with a burst of one request by default) and backs off exponentially with jitter when
Moodle or the network struggles.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """A token bucket: at most `rate` requests per second on average, bursts of up to `burst` requests.

    `rate <= 0` disables limiting. Waiters are served in arrival order; `clock` and `sleep` are injectable so
    the schedule can be checked without real time passing.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated: float | None = None
        self._lock = asyncio.Lock()

    @property
    def unlimited(self) -> bool:
        """Whether limiting is switched off."""
        return self.rate <= 0

    async def acquire(self) -> None:
        """Wait until one more request may start."""
        if self.unlimited:
            return
        async with self._lock:  # one waiter at a time keeps the order fair and the arithmetic simple
            now = self._clock()
            if self._updated is not None:
                self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate
                await self._sleep(wait)
                self._tokens = 1.0
                self._updated = now + wait
            self._tokens -= 1.0


class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of `base * 2**n`, capped."""

    def __init__(self, base: float, *, cap: float = 30.0, rng: random.Random | None = None) -> None:
        self.base = max(0.0, base)
        self.cap = cap
        self._rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1` (0-based); honours a server's Retry-After."""
        ceiling = min(self.cap, self.base * (2**attempt))
        chosen = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            chosen = max(chosen, min(retry_after, max(self.cap, 120.0)))
        return float(chosen)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from an HTTP Retry-After header (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)
