"""How slow a file download may be: a minimum transfer rate per time window, and an overall cap.

A per-read timeout does not bound a download: a server that sends a few bytes every second never trips it.
`TransferWatch` tells the client, after every chunk, the moment by which the download must have made more
progress; the client waits for the next chunk no longer than that. Pure arithmetic on a monotonic clock, so it
can be tested without a server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_MIN_BYTES_PER_SECOND = 4096.0
DEFAULT_RATE_WINDOW_SECONDS = 30.0
DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True)
class TransferLimits:
    """At least `min_bytes_per_second` averaged over each `window_seconds` (0 = no minimum), and the whole
    body within `total_seconds`."""

    min_bytes_per_second: float = DEFAULT_MIN_BYTES_PER_SECOND
    window_seconds: float = DEFAULT_RATE_WINDOW_SECONDS
    total_seconds: float = DEFAULT_DOWNLOAD_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if self.min_bytes_per_second < 0:
            raise ValueError("the minimum download rate must not be negative")
        if self.window_seconds <= 0:
            raise ValueError("the download rate window must be positive")
        if self.total_seconds <= 0:
            raise ValueError("the download time limit must be positive")


class TransferWatch:
    """Tracks one download against its limits: consecutive windows from `started`, each needing its quota."""

    def __init__(self, limits: TransferLimits, started: float) -> None:
        self.limits = limits
        self.started = started
        self.received = 0
        self._window = 0  # index of the window the last chunk fell into
        self._window_bytes = 0

    @property
    def _quota(self) -> float:
        return self.limits.min_bytes_per_second * self.limits.window_seconds

    def _window_end(self, index: int) -> float:
        return self.started + (index + 1) * self.limits.window_seconds

    @property
    def cap_at(self) -> float:
        """When the overall time limit runs out."""
        return self.started + self.limits.total_seconds

    def add(self, size: int, now: float) -> None:
        """Count a chunk of `size` bytes that arrived at `now`."""
        index = max(0, math.floor((now - self.started) / self.limits.window_seconds))
        if index != self._window:
            self._window = index
            self._window_bytes = 0
        self._window_bytes += size
        self.received += size

    def deadline(self) -> float:
        """The moment the download fails unless more bytes arrive before it."""
        if self._quota <= 0:
            return self.cap_at
        # The current window still needs bytes: its end. Already met: the next window must meet it too.
        index = self._window if self._window_bytes < self._quota else self._window + 1
        return min(self._window_end(index), self.cap_at)

    def over_time(self, now: float) -> bool:
        """Whether `now` is past the overall limit (rather than the rate falling short)."""
        return now >= self.cap_at
