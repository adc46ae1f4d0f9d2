"""The JSON of job summaries as `jobs.list` sends them, written once per change of a job rather than once per call."""

from __future__ import annotations

# Enough for the jobs clients page through (about 0.5 KB each: 10 MB at most); the oldest written go first beyond.
DEFAULT_CAPACITY = 20_000


class SummaryCache:
    """A job's summary JSON by job id, valid while the job's `updated_at` (moved by every write) is unchanged."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: dict[str, tuple[float, str]] = {}

    def get(self, job_id: str, updated_at: float) -> str | None:
        """The summary's JSON, if it was written for this version of the job."""
        entry = self._entries.get(job_id)
        return entry[1] if entry is not None and entry[0] == updated_at else None

    def put(self, job_id: str, updated_at: float, text: str) -> None:
        """Keep a summary's JSON for this version of the job."""
        self._entries.pop(job_id, None)  # re-inserted at the end: the order is the order of writing
        if len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[job_id] = (updated_at, text)

    def __len__(self) -> int:
        return len(self._entries)
