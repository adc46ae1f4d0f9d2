"""Keep one repeated log line from flooding the log (and the disk under it).

A daemon out of file descriptors can log the same error hundreds of times a second: asyncio reports every
failed `accept()` as "socket.accept() out of system resource" with a traceback, and a client that is refused
again and again would do the same. A `RepeatLimiter` on each log handler lets the first `burst` identical
messages of an interval through, says once that it suppresses the rest, and reports their count when the
interval ends. Different messages are never held back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

BURST = 10
INTERVAL_SECONDS = 60.0
MAX_TRACKED = 1024  # distinct messages remembered at once; the oldest are reported and forgotten beyond that
_SUMMARY = "_archived_repeat_summary"  # marks the limiter's own lines, which always pass


@dataclass
class _Window:
    started: float
    name: str
    level: int
    text: str
    count: int = 0
    suppressed: int = 0


class RepeatLimiter(logging.Filter):
    """A filter for one handler: at most `burst` identical messages per `interval` seconds pass it."""

    def __init__(
        self,
        handler: logging.Handler,
        *,
        burst: int = BURST,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.handler = handler
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}
        self._lock = threading.Lock()  # records also come from worker threads

    def filter(self, record: logging.LogRecord) -> bool:
        """Let the record through unless it repeats a message that used up its burst in this interval."""
        if getattr(record, _SUMMARY, False):
            return True
        text = record.getMessage()
        key = (record.name, record.levelno, text)
        now = self._clock()
        reports: list[logging.LogRecord] = []
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.started >= self.interval:
                reports += self._ended(window)
                window = None
            if window is None:
                window = self._windows[key] = _Window(now, record.name, record.levelno, text)
                reports += self._forget_beyond(MAX_TRACKED)
            window.count += 1
            passes = window.count <= self.burst
            if not passes:
                window.suppressed += 1
                if window.suppressed == 1:
                    notice = f"repeated {self.burst} times within {self.interval:g} s; further copies are counted"
                    reports.append(self._line(window, notice))
        for report in reports:
            self.handler.handle(report)
        return passes

    def flush(self) -> None:
        """Report the suppressed counts of intervals that have ended; call it now and then (the daemon's tick)."""
        now = self._clock()
        with self._lock:
            ended = [key for key, w in self._windows.items() if now - w.started >= self.interval]
            reports = [line for key in ended for line in self._ended(self._windows.pop(key))]
        for report in reports:
            self.handler.handle(report)

    def _ended(self, window: _Window) -> list[logging.LogRecord]:
        if not window.suppressed:
            return []
        return [self._line(window, f"suppressed {window.suppressed} identical message(s) in {self.interval:g} s")]

    def _forget_beyond(self, size: int) -> list[logging.LogRecord]:
        reports: list[logging.LogRecord] = []
        while len(self._windows) > size:
            oldest = next(iter(self._windows))
            reports += self._ended(self._windows.pop(oldest))
        return reports

    def _line(self, window: _Window, what: str) -> logging.LogRecord:
        first_line = window.text.split("\n", 1)[0][:300]
        record = logging.LogRecord(window.name, window.level, __file__, 0, "%s: %s", (what, first_line), None)
        setattr(record, _SUMMARY, True)
        return record


class RepeatLimits:
    """A `RepeatLimiter` on every handler of a logger (the root logger by default), added and removed together."""

    def __init__(
        self, logger: logging.Logger | None = None, *, burst: int = BURST, interval: float = INTERVAL_SECONDS
    ) -> None:
        handlers = (logger or logging.getLogger()).handlers
        self.limiters = [RepeatLimiter(handler, burst=burst, interval=interval) for handler in handlers]
        for limiter in self.limiters:
            limiter.handler.addFilter(limiter)

    def flush(self) -> None:
        """Report what each limiter suppressed in intervals that have ended."""
        for limiter in self.limiters:
            limiter.flush()

    def remove(self) -> None:
        """Report the remaining counts and take the limiters off their handlers."""
        for limiter in self.limiters:
            limiter.interval = 0.0  # every interval has ended now
            limiter.flush()
            limiter.handler.removeFilter(limiter)
        self.limiters = []
