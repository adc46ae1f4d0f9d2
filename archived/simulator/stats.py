"""Request counters, so tests can assert what a client asked the simulator (and how often)."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRecord:
    """One received request: endpoint, web-service function (REST only) and parameters (no token)."""

    endpoint: str
    function: str | None
    params: tuple[tuple[str, str], ...]


class RequestStats:
    """Thread-safe counters per endpoint and per web-service function, plus a bounded request log."""

    def __init__(self, log_size: int = 10000) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._log: deque[RequestRecord] = deque(maxlen=log_size)
        self._token_paths: set[str] = set()

    def record(self, endpoint: str, function: str | None, params: dict[str, str]) -> None:
        """Count one request (REST requests under their function name, others under their endpoint)."""
        key = function if endpoint == "rest" and function else endpoint
        with self._lock:
            self._counts[key] += 1
            self._log.append(RequestRecord(endpoint, function, tuple(sorted(params.items()))))

    def record_token_use(self, path: str) -> None:
        """Note that a request to `path` (any path, known endpoint or not) carried the site's token."""
        with self._lock:
            self._token_paths.add(path)

    def token_paths(self) -> set[str]:
        """Every request path that carried the token: a client must send it to web-service endpoints only."""
        with self._lock:
            return set(self._token_paths)

    def count(self, name: str) -> int:
        """Requests of a function (e.g. `mod_quiz_get_attempt_review`) or endpoint (`pluginfile`, `token`)."""
        with self._lock:
            return self._counts[name]

    def counts(self) -> dict[str, int]:
        """A snapshot of every counter."""
        with self._lock:
            return dict(self._counts)

    def log(self) -> list[RequestRecord]:
        """The most recent requests, oldest first."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """Forget every count and log entry."""
        with self._lock:
            self._counts.clear()
            self._log.clear()
            self._token_paths.clear()
