"""The rate limiter's schedule (with a fake clock) and the backoff delays."""

from __future__ import annotations

import asyncio
import random

import pytest

from archived.moodle.pacing import Backoff, RateLimiter, parse_retry_after


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_rate_limiter_spaces_requests_evenly() -> None:
    fake = FakeTime()
    limiter = RateLimiter(4.0, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(5):
        await limiter.acquire()
        starts.append(fake.now)
    assert starts == [100.0, 100.25, 100.5, 100.75, 101.0]


async def test_rate_limiter_allows_bursts_after_idle_time() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2.0, burst=3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        await limiter.acquire()
    assert fake.sleeps == []  # the burst is free
    await limiter.acquire()
    assert fake.sleeps == [0.5]
    fake.now += 10  # idle: the bucket refills, but only up to the burst size
    for _ in range(3):
        await limiter.acquire()
    assert fake.sleeps == [0.5]
    await limiter.acquire()
    assert fake.sleeps == [0.5, 0.5]


async def test_rate_limiter_counts_time_spent_elsewhere() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1.0, clock=fake.clock, sleep=fake.sleep)
    await limiter.acquire()
    fake.now += 0.75  # the request itself took a while
    await limiter.acquire()
    assert fake.sleeps == [pytest.approx(0.25)]


async def test_rate_limiter_concurrent_waiters_are_all_spaced() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10.0, clock=fake.clock, sleep=fake.sleep)
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        starts.append(fake.now)

    await asyncio.gather(*(one() for _ in range(4)))
    assert starts == pytest.approx([100.0, 100.1, 100.2, 100.3])


async def test_zero_rate_means_unlimited() -> None:
    fake = FakeTime()
    limiter = RateLimiter(0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(100):
        await limiter.acquire()
    assert limiter.unlimited and fake.sleeps == []


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(0.5, cap=4.0, rng=random.Random(7))
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = {backoff.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, so parallel clients do not retry in lockstep


def test_backoff_honours_retry_after() -> None:
    backoff = Backoff(0.5, cap=4.0, rng=random.Random(1))
    assert backoff.delay(0, retry_after=30) == 30
    assert backoff.delay(0, retry_after=100000) == 120  # a hostile header cannot stall a job for a day
    assert backoff.delay(0, retry_after=0) <= 0.5


def test_parse_retry_after() -> None:
    assert parse_retry_after("17") == 17
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
