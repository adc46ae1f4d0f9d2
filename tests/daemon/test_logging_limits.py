"""The repeat limiter on the daemon's log handlers (pure logic, with a hand-driven clock)."""

from __future__ import annotations

import io
import logging

from archived.daemon.logging_limits import RepeatLimiter, RepeatLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_identical_messages_beyond_the_burst_are_counted_and_reported_once_the_interval_ends() -> None:
    logger, stream = make_logger("tests.limits.burst")
    clock = Clock()
    limiter = RepeatLimiter(logger.handlers[0], burst=3, interval=60, clock=clock)
    logger.handlers[0].addFilter(limiter)
    for _ in range(500):
        logger.error("socket.accept() out of system resource\nsocket: <fd=7>")
    logger.error("another message")  # never held back by the flood of the first
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("ERROR")]
    assert lines.count("ERROR tests.limits.burst: socket.accept() out of system resource") == 3
    assert "repeated 3 times within 60 s; further copies are counted" in lines[3]
    assert lines[4] == "ERROR tests.limits.burst: another message"
    assert len(lines) == 5

    clock.now += 61
    limiter.flush()
    assert (
        "suppressed 497 identical message(s) in 60 s: socket.accept() out of system resource"
        in (stream.getvalue().splitlines()[-1])
    )
    logger.error("socket.accept() out of system resource\nsocket: <fd=7>")  # a new interval: it passes again
    assert stream.getvalue().splitlines()[-2] == "ERROR tests.limits.burst: socket.accept() out of system resource"


def test_a_new_interval_reports_the_count_of_the_last_before_its_first_message() -> None:
    logger, stream = make_logger("tests.limits.next")
    clock = Clock()
    logger.handlers[0].addFilter(RepeatLimiter(logger.handlers[0], burst=1, interval=10, clock=clock))
    for _ in range(4):
        logger.warning("refused a connection of uid %d", 65534)
    clock.now += 11
    logger.warning("refused a connection of uid %d", 65534)
    assert stream.getvalue().splitlines() == [
        "WARNING tests.limits.next: refused a connection of uid 65534",
        "WARNING tests.limits.next: repeated 1 times within 10 s; further copies are counted: "
        "refused a connection of uid 65534",
        "WARNING tests.limits.next: suppressed 3 identical message(s) in 10 s: refused a connection of uid 65534",
        "WARNING tests.limits.next: refused a connection of uid 65534",
    ]


def test_removing_the_limits_reports_what_they_held_back() -> None:
    logger, stream = make_logger("tests.limits.remove")
    limits = RepeatLimits(logger, burst=2)
    for _ in range(5):
        logger.info("same")
    limits.remove()
    logger.info("same")  # no limiter any more
    lines = stream.getvalue().splitlines()
    assert lines[-2] == "INFO tests.limits.remove: suppressed 3 identical message(s) in 0 s: same"
    assert lines[-1] == "INFO tests.limits.remove: same"
    assert not logger.handlers[0].filters
