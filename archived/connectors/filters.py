"""Which events a connector takes: kinds (with wildcards such as `job.*`), courses, categories."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from archived.config import ConnectorConfig
from archived.connectors.facts import EventFacts


class EventFilter:
    """A connector's `events`, `courses` and `categories`."""

    def __init__(self, config: ConnectorConfig) -> None:
        self.patterns = list(config.events)
        self.courses = set(config.courses)
        self.categories = list(config.categories)

    def takes_kind(self, kind: str) -> bool:
        """Whether the event kind is one the connector asked for."""
        return any(fnmatchcase(kind, pattern) for pattern in self.patterns)

    @property
    def scoped(self) -> bool:
        """Whether courses or categories narrow the filter (then the event's job must be looked up)."""
        return bool(self.courses or self.categories)

    async def takes_scope(self, job: dict[str, Any] | None, facts: EventFacts) -> bool:
        """Whether the event's course is one of `courses` or in one of `categories`; an event about no course never
        matches a scoped filter. A lookup failure raises (the event is tried again, not dropped)."""
        if not self.scoped:
            return True
        course = job.get("course_id") if job else None
        if not isinstance(course, int):
            return False
        if course in self.courses:
            return True
        for category in self.categories:
            if course in await facts.courses_in(category):
                return True
        return False
